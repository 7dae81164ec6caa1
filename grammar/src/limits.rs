//! The documented size limits of definitions and expressions, in one place.
//!
//! Every limit is far above what people write (generated conditions of thousands of
//! clauses included) and is checked before the work it protects: text sizes before
//! parsing, chain and list lengths while the parser builds them, and expression depth as
//! each node is built, so no later pass (checker, lints, printers, compiler, evaluators,
//! and dropping the tree) can recurse deeper than [`MAX_EXPR_DEPTH`]. The compiler reports
//! a limit as `E0006` and the CLI and the API share these values.

/// Bytes of one definition: a `.auto` file, or the JSON of one automation.
pub const MAX_DEFINITION_BYTES: usize = 4 << 20;
/// Bytes of one expression or template text (a JSON condition or param string).
pub const MAX_EXPR_BYTES: usize = 1 << 20;
/// Clauses joined by `and`/`or` in one expression (other operators nest: the depth
/// limit bounds them).
pub const MAX_CLAUSES: usize = 50_000;
/// Items of one list literal (`subject in ["a", "b", ...]`).
pub const MAX_LIST_ITEMS: usize = 50_000;
/// Depth of one expression tree: nested operators of different precedence, parentheses,
/// calls, `is null` chains. An `and`/`or` chain counts once whatever its length.
pub const MAX_EXPR_DEPTH: u32 = 256;
/// Deepest bracket nesting accepted; keeps pest's recursive descent far from the stack
/// limit (checked by a scan of the text before pest runs).
pub const MAX_NESTING: usize = 64;
