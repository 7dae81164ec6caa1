//! The storage conformance suite: one body per case, generic over [`Store`], run against
//! every driver. A driver is done when every case passes on it; a new trait method gets
//! its case here, never in one driver's own tests.
//!
//! Each case opens its own fresh store (a temporary SQLite file; a new schema of the
//! PostgreSQL database named by `AUTOMATIONS_TEST_POSTGRES_URL`, dropped afterwards), so
//! cases run in parallel and never see each other's rows. Without that variable the
//! PostgreSQL cases print a notice and pass without running; `.ci/run` always sets it.

mod core;
pub(crate) mod fixtures;
mod misc;
mod records;
mod runs;
mod work;

use automations_runtime::store::{SqliteConfig, SqliteStore};

// Cases kept beside the feature they belong to.
use crate::{record_log, store_history};

use crate::support::pg::{FreshSchema, open_pg};

/// Calls `$cb!(args...; module::case, ...)` with every case of the suite.
macro_rules! cases {
    ($cb:ident, $($args:tt)*) => {
        $cb!($($args)*;
            core::transactions_and_savepoints,
            core::workspaces_and_sandbox,
            core::tokens,
            core::automations_and_versions,
            core::definitions_keep_key_order,
            core::schema_extensions,
            records::records_round_trip,
            records::records_remembered_in_a_transaction,
            records::held_back_rows_are_seen_by_later_statements,
            records::a_failing_held_back_write_stores_nothing_of_its_transaction,
            records::query_records_filters_and_pages,
            records::events_insert_once,
            records::events_in_bulk,
            records::custom_event_types,
            records::nul_text_is_stored_or_refused_clearly,
            runs::runs_insert_once_and_update,
            runs::queue_and_crash_recovery,
            runs::runs_on_a_record_since,
            runs::steps_upsert_and_end_runs,
            runs::end_runs_in_bulk,
            runs::runs_list_and_page,
            runs::stats_and_due_work,
            runs::step_latency_counts_committed_steps,
            work::tasks_complete_once,
            work::tasks_list_and_page,
            work::timers_fire_once,
            work::outbox_queued_once_per_key,
            work::outbox_claim_under_lease,
            work::outbox_claimed_alone_once_each,
            work::outbox_outcomes_written_alone,
            work::outbox_outcome_of_one_item,
            work::outbox_list_and_page,
            work::mailbox_once_per_outbox_item,
            misc::notifications_read_and_page,
            misc::audit_log_newest_first,
            misc::plugin_rows,
            record_log::automation_log_capped_per_record,
            record_log::automation_log_swept_by_age,
            store_history::record_history_as_of_and_prune,
            store_history::events_between_in_stored_order,
            store_history::backtest_rows,
        );
    };
}

/// One `#[tokio::test]` per case in module `$driver`; `$open` is an async fn giving
/// `Option<(store, guard)>` (`None`: the driver is not available here, the case is
/// skipped) and the guard lives until the case ends.
macro_rules! driver_tests {
    ($driver:ident, $open:path; $($module:ident :: $case:ident),* $(,)?) => {
        mod $driver {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some((store, _guard)) = $open().await else { return };
                    super::$module::$case(&store).await;
                }
            )*
        }
    };
}

async fn open_sqlite() -> Option<(SqliteStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&SqliteConfig::file(dir.path().join("c.db")))
        .await
        .unwrap();
    Some((store, dir))
}

async fn open_postgres() -> Option<(automations_runtime::store::PgStore, FreshSchema)> {
    open_pg().await
}

cases!(driver_tests, sqlite, super::open_sqlite);
cases!(driver_tests, postgres, super::open_postgres);
