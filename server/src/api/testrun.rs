//! `POST /automations/{id}/test`: one dry-run on a given event or record, with mocked step
//! outputs; answers the run and why the condition did or did not match (DESIGN §7).
//! Nothing it does reaches records, the outbox or the network.

use automations_runtime::engine::{TestEvent, TestRequest};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::extract::{ApiPath, TextOrJson, parse_json};
use crate::auth::{Principal, Scope};
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    /// The event; its `type` defaults to the automation's trigger.
    #[serde(default)]
    pub event: Option<TestEventBody>,
    /// The triggering record (same as `event.record`).
    #[serde(default)]
    pub record: Option<Map<String, Value>>,
    #[serde(default)]
    pub previous: Option<Map<String, Value>>,
    /// Step id -> output used instead of running the step (plugins, webhooks, ...).
    #[serde(default)]
    pub mocks: Map<String, Value>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEventBody {
    #[serde(rename = "type", default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub record: Option<Map<String, Value>>,
    #[serde(default)]
    pub previous: Option<Map<String, Value>>,
    /// Payload of a custom event.
    #[serde(default)]
    pub data: Value,
}

/// Dry-run the automation once.
#[utoipa::path(post, path = "/api/v1/automations/{id}/test", tag = "automations", params(crate::api::wire::IdPath), request_body = TestBody,
    responses((status = 200, description = "`matched`, `explanation` and the dry `run` (null when not matched)", body = crate::api::wire::TestReportDoc),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    body: TextOrJson,
) -> ApiResult<Json<Value>> {
    principal.require(Scope::AutomationsWrite)?;
    // An empty body tests the automation on an empty record.
    let body: TestBody = if body.text.trim().is_empty() {
        TestBody::default()
    } else {
        parse_json(&body.text)?
    };
    let event = body.event.unwrap_or_default();
    let request = TestRequest {
        event: TestEvent {
            event_type: event.event_type,
            record: body.record.or(event.record),
            previous: body.previous.or(event.previous),
            data: event.data,
        },
        mocks: body.mocks,
    };
    let report = state
        .engine()
        .test_automation(&principal.workspace_id, &id, request)
        .await?;
    let run = report.run.as_ref().map(super::runs::run_json);
    Ok(Json(
        json!({ "matched": report.matched, "explanation": report.explanation, "run": run }),
    ))
}
