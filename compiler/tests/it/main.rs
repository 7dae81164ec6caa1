//! Integration tests of automations-compiler (one binary; each area in its own module).

mod dsl_lowering;
mod dsl_roundtrip;
mod normalize;
mod print_expr;
