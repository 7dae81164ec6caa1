//! `GET /records/{object}/{id}/automation-log`: for each recent event on a record, the
//! automations it was considered for and why each ran or did not (the failing clause with
//! the values seen, a status that excluded it, the loop guard). The engine writes the log
//! when it dispatches the event; this module only reads it.

use automations_runtime::record_log::AutomationLogEntry;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::extract::{ApiPath, ApiQuery};
use super::pagination::{self, Page};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListLog {
    /// Default 50, at most 500.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (an entry's `event_id`).
    pub cursor: Option<String>,
}

/// A record's automation log, newest event first. A record that does not exist and has no
/// entries (never existed, another workspace's) is a 404; a deleted record keeps its log
/// until the entries age out.
#[utoipa::path(get, path = "/api/v1/records/{object}/{id}/automation-log", tag = "records",
    params(crate::api::wire::RecordPath, ListLog),
    responses((status = 200, description = "A page of automation log entries", body = crate::api::wire::AutomationLogPage),
        (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn automation_log(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((object, id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<ListLog>,
) -> ApiResult<Json<Page<AutomationLogEntry>>> {
    principal.require_read(Scope::RecordsRead, Scope::RecordsWrite)?;
    let ws = &principal.workspace_id;
    if !state.definitions().schema_view(ws).has_object(&object) {
        return Err(ApiError::not_found("object"));
    }
    let limit = pagination::limit(query.limit)?;
    let page = state
        .engine()
        .automation_log(ws, &object, &id, limit, query.cursor.as_deref())
        .await
        .map_err(super::runs::bad_cursor)?;
    if page.items.is_empty() && query.cursor.is_none() {
        // Answers 404 when the record is unknown here (any workspace but this one).
        state.engine().record(ws, &object, &id).await?;
    }
    Ok(Json(Page {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
