//! The `automations` binary run as a user runs it (DESIGN §11): exit codes, output formats,
//! the examples and the README's promises.

mod backtest;
mod eval;
mod examples;
mod fmt_compile;
mod lint;
mod readme;
pub mod support;
mod sync;
mod testrun;
