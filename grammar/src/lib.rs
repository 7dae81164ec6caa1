//! automations-grammar: the pest grammar of the `.auto` DSL and of the condition language,
//! and a parser from text to the span-carrying [`ast`].
//!
//! It knows syntax only: names of fields, actions and events mean nothing here. Parsing
//! never panics, whatever the input; errors carry a span and the expected tokens.

pub mod ast;
mod error;
pub mod lexical;
pub mod limits;
mod parser;

pub use error::{ParseError, ParseErrorKind};
pub use parser::{parse_expr, parse_file, parse_template, reference};
