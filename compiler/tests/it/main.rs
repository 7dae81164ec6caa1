//! Integration tests of automations-compiler (one binary; one module per area).

mod catalog;
mod check_cases;
mod check_model;
mod check_plugins;
mod check_props;
mod check_support;
mod dispatch_cases;
mod dispatch_props;
mod dispatch_support;
mod dsl_lowering;
mod dsl_roundtrip;
mod eval_conformance;
mod eval_diff;
mod eval_explain;
mod eval_semantics;
mod eval_support;
mod json_dsl;
mod json_errors;
mod json_lower;
mod json_print;
mod json_props;
mod normalize;
mod pipeline;
mod print_expr;
mod render;
mod schema;
