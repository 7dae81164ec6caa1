//! Sandbox copies and the shadow diff (issue 23): `POST /automations/{id}/sandbox-copy`
//! copies a live automation to the sandbox (the copy shadows it: promote makes a new
//! version of it); `GET /automations/{id}/shadow-diff` lists the events since the copy on
//! which the two did different things. The engine does both; this module maps HTTP.

use automations_runtime::shadow_diff::ShadowDiff;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;

use super::automations::{with_engine_warnings, written_response};
use super::extract::{ApiPath, ApiQuery};
use super::pagination;
use crate::auth::{Principal, Scope};
use crate::error::ApiResult;
use crate::state::AppState;

/// Copy a live automation to the sandbox; answers 201 with the sandbox copy, whose
/// `shadows_id` is the live automation.
#[utoipa::path(post, path = "/api/v1/automations/{id}/sandbox-copy", tag = "automations", params(crate::api::wire::IdPath),
    responses((status = 201, description = "The sandbox copy", body = crate::api::wire::AutomationDoc), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn sandbox_copy(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    principal.require(Scope::AutomationsWrite)?;
    let ws = &principal.workspace_id;
    let (copy, engine_warnings) = state
        .engine()
        .copy_to_sandbox_by(ws, &id, &principal.actor())
        .await?;
    let warnings = with_engine_warnings(Vec::new(), &engine_warnings);
    let mut response =
        written_response(&state, ws, &copy.id, StatusCode::CREATED, warnings).await?;
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/automations/{}", copy.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// Differing events per page: default 50, at most 500.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (an event id).
    pub cursor: Option<String>,
}

/// Where a live automation and its sandbox copy differ, per event since the copy was
/// made (`id` names either), newest first, with totals over every compared event.
#[utoipa::path(get, path = "/api/v1/automations/{id}/shadow-diff", tag = "automations", params(crate::api::wire::IdPath, DiffQuery),
    responses((status = 200, description = "The differing events and totals", body = crate::api::wire::ShadowDiffDoc),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn shadow_diff(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> ApiResult<Json<ShadowDiff>> {
    principal.require_read(Scope::RunsRead, Scope::RunsWrite)?;
    let limit = pagination::limit(query.limit)?;
    let diff = state
        .engine()
        .shadow_diff(&principal.workspace_id, &id, limit, query.cursor.as_deref())
        .await
        .map_err(super::runs::bad_cursor)?;
    Ok(Json(diff))
}
