//! `GET /outbox`: external deliveries (email, Slack, webhooks) with their status, attempts
//! and last error (§12.1), newest first.

use automations_runtime::model::{OutboxFilter, OutboxItem, OutboxKind, OutboxStatus};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use super::automations::parse_filter;
use super::extract::ApiQuery;
use super::pagination::{self, Page};
use crate::auth::{Principal, Scope};
use crate::error::ApiResult;
use crate::state::AppState;

/// An item as answered (the engine already redacted its secrets).
fn item_json(item: &OutboxItem) -> Value {
    let mut v = serde_json::to_value(item).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("workspace_id");
    }
    v
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListOutbox {
    /// `email`, `slack` or `webhook`.
    #[param(schema_with = crate::api::openapi::choices::outbox_kind)]
    pub kind: Option<String>,
    /// `pending`, `delivered` or `dead`.
    #[param(schema_with = crate::api::openapi::choices::outbox_status)]
    pub status: Option<String>,
    pub run_id: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Outbox items.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "outbox", params(ListOutbox),
    responses((status = 200, description = "A page of outbox items", body = crate::api::wire::OutboxPage)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListOutbox>,
) -> ApiResult<Json<Page<Value>>> {
    principal.require_read(Scope::RunsRead, Scope::RunsWrite)?;
    let filter = OutboxFilter {
        kind: parse_filter(query.kind.as_deref(), OutboxKind::parse, "kind")?,
        status: parse_filter(query.status.as_deref(), OutboxStatus::parse, "status")?,
        run_id: query.run_id,
        limit: pagination::limit(query.limit)?,
        cursor: query.cursor,
    };
    let page = state
        .engine()
        .outbox(&principal.workspace_id, &filter)
        .await
        .map_err(super::runs::bad_cursor)?;
    Ok(Json(Page {
        items: page.items.iter().map(item_json).collect(),
        next_cursor: page.next_cursor,
    }))
}
