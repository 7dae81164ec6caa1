//! `POST /events`: custom events from external systems, idempotent by their `id` (a
//! repeated id answers the first acceptance with `duplicate: true` and runs nothing).

use automations_runtime::NewEvent;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::ApiJson;
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// The idempotency key; generated when absent.
    pub id: Option<String>,
    /// `custom.<name>`.
    #[serde(rename = "type")]
    #[schema(pattern = r"^custom\.", min_length = 8)]
    pub event_type: String,
    /// A record the event is about (`object` and `record_id` together).
    pub object: Option<String>,
    pub record_id: Option<String>,
    #[serde(default)]
    pub data: Value,
}

/// Accept one event: 202 with its id, whether it was a duplicate, and the runs it started.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = EventBody,
    responses((status = 202, description = "Accepted", body = crate::api::wire::AcceptedDoc), (status = 400, body = crate::error::ErrorBody)))]
pub async fn post(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<EventBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Scope::RecordsWrite)?;
    if body
        .id
        .as_deref()
        .is_some_and(|id| id.is_empty() || id.len() > 200)
    {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`id` must be 1 to 200 characters",
        ));
    }
    let event = NewEvent {
        id: body.id,
        event_type: body.event_type,
        object: body.object,
        record_id: body.record_id,
        data: body.data,
    };
    let accepted = state
        .engine()
        .ingest_event(&principal.workspace_id, event)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({ "event_id": accepted.event_id, "duplicate": accepted.duplicate, "run_ids": accepted.run_ids }),
        ),
    ))
}
