//! `GET /tasks`: the inbox of human tasks (filters: assignee, queue, status), and
//! `POST /tasks/{id}/complete`, the same completion as the run's complete-task.

use automations_runtime::model::{Task, TaskFilter, TaskStatus};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;

use super::automations::parse_filter;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{self, Page};
use super::runs::{CompleteTaskBody, require_task_scope, run_json, task_output_error};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn task_json(task: &Task) -> Value {
    let mut v = serde_json::to_value(task).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.remove("workspace_id");
    }
    v
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListTasks {
    pub assignee: Option<String>,
    pub queue: Option<String>,
    /// `open`, `completed`, `timed_out` or `cancelled`.
    #[param(schema_with = crate::api::openapi::choices::task_status)]
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Human tasks, newest first.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(ListTasks),
    responses((status = 200, description = "A page of tasks", body = crate::api::wire::TaskPage)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListTasks>,
) -> ApiResult<Json<Page<Value>>> {
    if !(principal.has(Scope::RunsRead)
        || principal.has(Scope::RunsWrite)
        || principal.has(Scope::TasksWrite))
    {
        return Err(ApiError::Forbidden(Scope::RunsRead.as_str().into()));
    }
    let filter = TaskFilter {
        status: parse_filter(query.status.as_deref(), TaskStatus::parse, "status")?,
        assignee: query.assignee,
        queue: query.queue,
        limit: pagination::limit(query.limit)?,
        cursor: query.cursor,
    };
    let page = state
        .engine()
        .tasks(&principal.workspace_id, &filter)
        .await
        .map_err(super::runs::bad_cursor)?;
    Ok(Json(Page {
        items: page.items.iter().map(task_json).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Complete a task from the inbox; answers the resumed run.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks", params(crate::api::wire::IdPath), request_body = CompleteTaskBody,
    responses((status = 200, description = "The run", body = crate::api::wire::RunDoc), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn complete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CompleteTaskBody>,
) -> ApiResult<Json<Value>> {
    require_task_scope(&principal)?;
    let run = state
        .engine()
        .complete_task_by(
            &principal.workspace_id,
            &id,
            body.output,
            &principal.actor(),
        )
        .await
        .map_err(task_output_error)?;
    Ok(Json(run_json(&run)))
}
