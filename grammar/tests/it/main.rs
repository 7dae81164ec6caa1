//! Integration tests of the grammar: data-driven cases, precedence, errors, no-panic properties.

mod cases;
mod dump;
mod errors;
mod fast_path;
mod no_panic;
mod precedence;
mod spans;
