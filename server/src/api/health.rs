//! `GET /healthz`: 200 `{"status": "ok"}` once the database answers; no token needed.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` on a 200.
    pub status: String,
}

/// Liveness and readiness.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, body = Health), (status = 503, body = crate::error::ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    if !state.is_ready() {
        return Err(ApiError::Unavailable("the database is not ready".into()));
    }
    Ok(Json(Health {
        status: "ok".into(),
    }))
}
