//! `GET /healthz` (liveness: the process serves) and `GET /readyz` (readiness: the
//! database answers a query and the engine's background tasks are alive); no token needed.
//!
//! `/readyz` answers 200 with every check, or 503 with the §12 error body whose message
//! names what is not ready (a stopped or stalled worker by name), plus the same `checks`. A probe never waits long: the database
//! query has [`DATABASE_TIMEOUT`].

use std::time::Duration;

use automations_runtime::store::Store;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long `/readyz` waits for the database before calling it not ready.
pub const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// The background tasks a serving node needs: group commit, runs, timers, outbox.
pub const WORKERS: [&str; 4] = ["writer", "runs", "timers", "outbox"];

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` on a 200.
    pub status: String,
}

/// Liveness: the process serves requests (503 while shutting down).
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()),
    responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    if !state.is_ready() {
        return Err(ApiError::Unavailable("the server is shutting down".into()));
    }
    Ok(Json(Health {
        status: "ok".into(),
    }))
}

/// What `/readyz` checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` on a 200.
    pub status: String,
    pub checks: ReadinessChecks,
}

/// One entry per check: `ok`, or why not.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessChecks {
    /// `ok`, `shutting down`, or the database's error.
    pub server: String,
    pub database: String,
    /// Per background task (`writer`, `runs`, `timers`, `outbox`): `ok`, `stopped`,
    /// `not started`, `starting` (its first round, such as the timer worker's start-up
    /// housekeeping, is not done yet), or `stalled (no heartbeat for N s)` when its loop
    /// has not come round within the engine's `stall_after` (stuck in a round).
    #[schema(value_type = Object)]
    pub workers: serde_json::Map<String, serde_json::Value>,
}

impl ReadinessChecks {
    /// The checks that failed, as `name: reason`.
    fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.server != "ok" {
            failures.push(format!("server: {}", self.server));
        }
        if self.database != "ok" {
            failures.push(format!("database: {}", self.database));
        }
        for (name, state) in &self.workers {
            if state != "ok" {
                let state = state.as_str().unwrap_or_default();
                failures.push(format!("worker {name}: {state}"));
            }
        }
        failures
    }
}

/// Readiness: the database answers a query and every background task is alive.
#[utoipa::path(get, path = "/readyz", tag = "meta", security(()),
    responses((status = 200, body = Readiness),
        (status = 503, description = "The error body (its message names what is not ready) with the `checks` of a Readiness", body = crate::error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let checks = checks(&state).await;
    let failures = checks.failures();
    if failures.is_empty() {
        let body = Readiness {
            status: "ready".into(),
            checks,
        };
        return Json(body).into_response();
    }
    let message = format!("not ready: {}", failures.join("; "));
    let body = json!({
        "error": { "code": "not_ready", "message": message, "diagnostics": [] },
        "checks": checks,
    });
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

async fn checks(state: &AppState) -> ReadinessChecks {
    let server = if state.is_ready() {
        "ok"
    } else {
        "shutting down"
    };
    let database = match tokio::time::timeout(DATABASE_TIMEOUT, state.engine().store().ping()).await
    {
        Ok(Ok(())) => "ok".to_string(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} s", DATABASE_TIMEOUT.as_secs()),
    };
    let running = state.engine().workers();
    let workers = WORKERS
        .iter()
        .map(|name| {
            let status = match running.iter().find(|w| w.name == *name) {
                Some(w) if w.stalled => format!(
                    "stalled (no heartbeat for {} s)",
                    w.since_heartbeat.as_secs()
                ),
                Some(w) if w.alive && !w.started => "starting".into(),
                Some(w) if w.alive => "ok".into(),
                Some(_) => "stopped".into(),
                None => "not started".into(),
            };
            (name.to_string(), status.into())
        })
        .collect();
    ReadinessChecks {
        server: server.into(),
        database,
        workers,
    }
}
