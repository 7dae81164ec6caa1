//! Integration tests of the server: the router in-process (`oneshot`) and the real binary.

mod automations;
mod bad_input;
mod basics;
mod e2e;
mod isolation;
mod records;
mod runs;
mod schema;
mod support;
