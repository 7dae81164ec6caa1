//! Runs of an automation: list (filters, cursor pages), detail, and run control:
//! complete-task (exactly once: a second completion is 409), cancel, retry (DESIGN §6).

use automations_runtime::RuntimeError;
use automations_runtime::model::{Run, RunFilter, RunStatus};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::automations::parse_filter;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{self, Page};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The wire form of a run: the runtime's fields without `workspace_id`, `record` as an
/// object, `steps` always present.
pub fn run_json(run: &Run) -> Value {
    let mut v = serde_json::to_value(run).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("workspace_id");
        let record = match (&run.object, &run.record_id) {
            (Some(object), Some(id)) => json!({ "object": object, "id": id }),
            _ => Value::Null,
        };
        m.insert("record".into(), record);
    }
    v
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListRuns {
    /// `queued`, `running`, `waiting`, `completed`, `failed` or `cancelled`.
    pub status: Option<String>,
    pub dry_run: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Runs of one automation, newest first, each with its steps.
#[utoipa::path(get, path = "/api/v1/automations/{id}/runs", tag = "runs", params(crate::api::wire::IdPath, ListRuns),
    responses((status = 200, description = "A page of runs", body = crate::api::wire::RunPage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ListRuns>,
) -> ApiResult<Json<Page<Value>>> {
    principal.require_read(Scope::RunsRead, Scope::RunsWrite)?;
    let ws = &principal.workspace_id;
    let engine = state.engine();
    engine.automation(ws, &id).await?;
    let filter = RunFilter {
        automation_id: Some(id),
        status: parse_filter(query.status.as_deref(), RunStatus::parse, "status")?,
        dry_run: query.dry_run,
        limit: pagination::limit(query.limit)?,
        cursor: query.cursor,
    };
    let page = engine.runs(ws, &filter).await.map_err(bad_cursor)?;
    let mut items = Vec::with_capacity(page.items.len());
    for run in &page.items {
        // The list query leaves steps out; each run is shown whole.
        items.push(run_json(&engine.run(ws, &run.id).await?));
    }
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// A cursor that names nothing is the client's mistake, not a missing resource.
pub(crate) fn bad_cursor(err: RuntimeError) -> ApiError {
    match err {
        RuntimeError::NotFound { what: "cursor", .. } => {
            ApiError::bad_request("invalid_query", "unknown cursor")
        }
        other => other.into(),
    }
}

/// One run with its steps and effects.
#[utoipa::path(get, path = "/api/v1/automations/{id}/runs/{run_id}", tag = "runs", params(crate::api::wire::RunPath),
    responses((status = 200, description = "The run", body = crate::api::wire::RunDoc), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, run_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    principal.require_read(Scope::RunsRead, Scope::RunsWrite)?;
    let run = state
        .engine()
        .automation_run(&principal.workspace_id, &id, &run_id)
        .await?;
    Ok(Json(run_json(&run)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteTaskBody {
    /// The form's fields (`{"approved": true, "notes": "ok"}`).
    pub output: Value,
}

/// Complete the run's open human task and resume the run. 422 when the output does not
/// match the form, 409 when the task is already completed.
#[utoipa::path(post, path = "/api/v1/automations/{id}/runs/{run_id}/complete-task", tag = "runs", params(crate::api::wire::RunPath),
    request_body = CompleteTaskBody,
    responses((status = 200, description = "The run", body = crate::api::wire::RunDoc), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn complete_task(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, run_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<CompleteTaskBody>,
) -> ApiResult<Json<Value>> {
    require_task_scope(&principal)?;
    let result = state
        .engine()
        .complete_run_task_by(
            &principal.workspace_id,
            &id,
            &run_id,
            body.output,
            &principal.actor(),
        )
        .await;
    Ok(Json(run_json(&result.map_err(task_output_error)?)))
}

pub(crate) fn require_task_scope(principal: &Principal) -> ApiResult<()> {
    if principal.has(Scope::TasksWrite) || principal.has(Scope::RunsWrite) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(Scope::TasksWrite.as_str().into()))
    }
}

/// Form mismatches get their own code.
pub(crate) fn task_output_error(err: RuntimeError) -> ApiError {
    match ApiError::from(err) {
        ApiError::Unprocessable { diagnostics, .. } => ApiError::unprocessable(
            "invalid_task_output",
            "the output does not match the task's form",
            diagnostics
                .into_iter()
                .map(|d| d.at_pointer_prefix("/output"))
                .collect(),
        ),
        other => other,
    }
}

/// Cancel a queued, running or waiting run.
#[utoipa::path(post, path = "/api/v1/automations/{id}/runs/{run_id}/cancel", tag = "runs", params(crate::api::wire::RunPath),
    responses((status = 200, description = "The cancelled run", body = crate::api::wire::RunDoc), (status = 409, body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(ids): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    control(&state, &principal, &ids, RunControl::Cancel).await
}

/// Retry a failed run from its failed step (effects already applied are not repeated).
#[utoipa::path(post, path = "/api/v1/automations/{id}/runs/{run_id}/retry", tag = "runs", params(crate::api::wire::RunPath),
    responses((status = 200, description = "The re-queued run", body = crate::api::wire::RunDoc), (status = 409, body = crate::error::ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(ids): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    control(&state, &principal, &ids, RunControl::Retry).await
}

/// What a run-control call asks of the engine.
enum RunControl {
    Cancel,
    Retry,
}

/// Cancel and retry alike: `runs:write`, the engine's transition, the run as the answer.
async fn control(
    state: &AppState,
    principal: &Principal,
    (id, run_id): &(String, String),
    action: RunControl,
) -> ApiResult<Json<Value>> {
    principal.require(Scope::RunsWrite)?;
    let (engine, ws) = (state.engine(), &principal.workspace_id);
    let run = match action {
        RunControl::Cancel => engine.cancel_run(ws, id, run_id).await?,
        RunControl::Retry => engine.retry_run(ws, id, run_id).await?,
    };
    Ok(Json(run_json(&run)))
}
