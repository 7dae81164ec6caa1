//! Integration tests of automations-compiler (one binary; one module per area).

mod check_cases;
mod check_model;
mod check_support;
mod dsl_lowering;
mod dsl_roundtrip;
mod json_dsl;
mod json_errors;
mod json_lower;
mod json_print;
mod json_props;
mod normalize;
mod print_expr;
mod render;
mod schema;
