//! Integration tests of automations-compiler (one test binary, one module per area).

mod eval_conformance;
mod eval_diff;
mod eval_explain;
mod eval_semantics;
mod eval_support;
