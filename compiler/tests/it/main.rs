//! Integration tests of automations-compiler (one binary; one module per area).

mod check_cases;
mod check_model;
mod check_support;
mod dsl_lowering;
mod dsl_roundtrip;
mod normalize;
mod print_expr;
mod render;
mod schema;
