//! Integration tests of automations-host-api: the example and hostile plugins
//! (built from examples/plugins for wasm32-wasip2) run against the in-memory
//! host.

mod build;
mod cache;
mod check;
mod examples;
mod hostile;
mod http;
mod https;
mod output;
mod support;
