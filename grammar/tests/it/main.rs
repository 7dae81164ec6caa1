//! Integration tests of the grammar: data-driven cases, precedence, errors, no-panic properties.

mod cases;
mod dump;
mod errors;
mod no_panic;
mod precedence;
mod spans;
