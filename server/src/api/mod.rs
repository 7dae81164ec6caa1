//! The REST API v1 (DESIGN §12): one module per resource, plus the shared extractors,
//! pagination, metrics and the OpenAPI document.
//!
//! Handlers stay thin: authorise, parse, call the engine, shape the answer. Every query is
//! filtered by the caller's workspace; HTTP statuses come only from `crate::error`.

pub mod apply;
pub mod audit;
pub mod automations;
pub mod backtests;
pub mod events;
pub mod extract;
pub mod format;
pub mod health;
pub mod metrics;
pub mod notifications;
pub mod openapi;
pub mod outbox;
pub mod pagination;
pub mod plugins;
pub mod record_log;
pub mod records;
pub mod records_batch;
pub mod runs;
pub mod sandbox;
pub mod schema;
pub mod shadow;
pub mod tasks;
pub mod testrun;
pub mod tokens;
pub mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

use crate::state::AppState;

/// The routes under `/api/v1`; plugin uploads may be up to `upload_limit` bytes.
pub fn v1_routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/metrics", get(metrics::metrics))
        .route(
            "/automations",
            get(automations::list).post(automations::create),
        )
        .route("/automations/validate", post(automations::validate))
        .route("/automations/apply", post(apply::apply))
        .route("/automations/format", post(format::format))
        .route(
            "/automations/{id}",
            get(automations::get_one)
                .put(automations::replace)
                .patch(automations::patch)
                .delete(automations::delete),
        )
        .route("/automations/{id}/status", post(automations::set_status))
        .route("/automations/{id}/versions", get(automations::versions))
        .route("/automations/{id}/test", post(testrun::test))
        .route("/automations/{id}/promote", post(automations::promote))
        .route("/automations/{id}/backtest", post(backtests::start))
        .route("/automations/{id}/backtests", get(backtests::list))
        .route(
            "/automations/{id}/backtests/{backtest_id}",
            get(backtests::get_one).delete(backtests::delete),
        )
        .route(
            "/automations/{id}/backtests/{backtest_id}/cancel",
            post(backtests::cancel),
        )
        .route("/automations/{id}/sandbox-copy", post(shadow::sandbox_copy))
        .route("/automations/{id}/shadow-diff", get(shadow::shadow_diff))
        .route("/automations/{id}/runs", get(runs::list))
        .route("/automations/{id}/runs/{run_id}", get(runs::get_one))
        .route(
            "/automations/{id}/runs/{run_id}/complete-task",
            post(runs::complete_task),
        )
        .route("/automations/{id}/runs/{run_id}/cancel", post(runs::cancel))
        .route("/automations/{id}/runs/{run_id}/retry", post(runs::retry))
        .route(
            "/records/{object}",
            get(records::list).post(records::create),
        )
        .route(
            "/records/{object}/{id}",
            get(records::get_one)
                .patch(records::update)
                .delete(records::delete),
        )
        .route(
            "/records/{object}/{id}/automation-log",
            get(record_log::automation_log),
        )
        .route("/events", post(events::post))
        .route("/schema", get(schema::get_schema).post(schema::extend))
        .route("/schema/{object}/fields", post(schema::add_field))
        .route("/sandbox", get(sandbox::get_state))
        .route("/sandbox/activate", post(sandbox::activate))
        .route("/sandbox/deactivate", post(sandbox::deactivate))
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}/complete", post(tasks::complete))
        .route("/outbox", get(outbox::list))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_all_read))
        .route("/notifications/{id}/read", post(notifications::mark_read))
        .route(
            "/plugins",
            get(plugins::list)
                .post(plugins::upload)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/plugins/{name}/grants", post(plugins::grants))
        .route("/audit", get(audit::list))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::revoke))
}
