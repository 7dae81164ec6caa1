//! Integration tests of automations-runtime against real databases: SQLite files, or
//! PostgreSQL schemas with `AUTOMATIONS_TEST_DRIVER=postgres` (`support/pg.rs`); the
//! storage conformance suite (`conformance/`) runs on both drivers every time.

mod approval;
mod backtest;
mod bench;
mod bench_backtest;
mod conformance;
mod contained;
mod cycles;
mod dispatch_prop;
mod dry_run;
mod kill;
mod lifecycle;
mod loops;
mod nodes;
mod outbox;
mod plugin_calls;
mod plugin_store;
mod record_log;
mod records;
mod retries;
mod run_view;
mod seed;
mod shadow;
mod slow_receiver;
mod ssrf;
mod start_in_write;
mod store_history;
mod support;
mod workspace_schema;
mod workspace_scope;
