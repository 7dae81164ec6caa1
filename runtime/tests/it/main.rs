//! Integration tests of automations-runtime against real SQLite files.

mod approval;
mod backtest;
mod bench;
mod bench_backtest;
mod contained;
mod cycles;
mod dispatch_prop;
mod dry_run;
mod kill;
mod lifecycle;
mod loops;
mod outbox;
mod plugin_calls;
mod plugin_store;
mod record_log;
mod records;
mod retries;
mod run_view;
mod seed;
mod slow_receiver;
mod ssrf;
mod store_batch;
mod store_history;
mod support;
mod workspace_schema;
mod workspace_scope;
