//! Canonical printers: expressions (shared by the DSL and the JSON form) and `.auto` text.
//!
//! Printing is a pure function of the IR: same input, same bytes, and what it prints parses
//! back to the same IR (spans and redundant parentheses aside). The layout never depends on
//! spans; the DSL printer reads them only as keys of the comments attached to lines.

mod attached;
mod dsl;
mod expr;
mod spellable;

pub use attached::{Anchor, Attached};
pub use dsl::{print_dsl, print_dsl_with};
pub use expr::{print_expr, print_json_literal};
pub use spellable::dsl_blockers;

/// Quote character for string literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quote {
    /// `"text"`: the DSL.
    #[default]
    Double,
    /// `'text'`: expression strings embedded in JSON, to avoid `\"` noise.
    Single,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrintConfig {
    pub quote: Quote,
}
