//! Integration tests of automations-compiler (one binary; each area in its own module).

mod dsl_lowering;
mod dsl_roundtrip;
mod json_dsl;
mod json_errors;
mod json_lower;
mod json_print;
mod json_props;
mod normalize;
mod print_expr;
