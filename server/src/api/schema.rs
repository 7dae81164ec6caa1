//! `GET /schema`: the CRM schema definitions and conditions are checked against.

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::auth::Principal;
use crate::error::ApiResult;
use crate::state::AppState;

/// The schema: objects, their fields and types.
#[utoipa::path(get, path = "/api/v1/schema", tag = "schema", responses((status = 200, description = "The schema")))]
pub async fn get_schema(
    State(state): State<AppState>,
    _principal: Principal,
) -> ApiResult<Json<Value>> {
    Ok(Json(state.definitions().schema_json()))
}
