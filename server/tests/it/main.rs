//! Integration tests of the server (one test binary): the router in-process (`oneshot`),
//! the real binary end to end, and the offline CLI commands.

mod apply;
mod audit;
mod automation_log;
mod automations;
mod backtests;
mod bad_input;
mod basics;
mod big_inputs;
mod cli;
mod diagnostics;
mod durability;
mod e2e;
mod if_match;
mod isolation;
mod lists;
mod nodes;
mod notifications;
mod openapi;
mod ops;
mod plugins;
mod postgres;
mod records;
mod records_batch;
mod runs;
mod scale;
mod schema;
mod secrets;
mod shadow;
mod step_retries;
mod support;
mod tokens;
mod web;
