//! automations-grammar: the pest grammar of the `.auto` DSL and of the condition language,
//! and a parser from text to the span-carrying [`ast`].
//!
//! It knows syntax only: names of fields, actions and events mean nothing here.

pub mod ast;
