//! Integration tests of automations-compiler: one binary, one module per area.

mod json_errors;
mod json_lower;
