//! Integration tests of automations-compiler (one binary; one module per area).

mod check_cases;
mod check_model;
mod check_support;
mod render;
mod schema;
