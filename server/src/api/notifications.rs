//! `GET /notifications`: what automations told users (`notify_user`, `send_notification`
//! on `in_app`, escalations), per user, unread first, then newest first; and marking them
//! read, one (`POST /notifications/{id}/read`) or all of a user's
//! (`POST /notifications/read` with `{"user_id": ...}`).
//!
//! Tokens belong to workspaces, not users, so the user is a filter: a client showing "my
//! notifications" passes its user's id.

use automations_runtime::model::{Notification, NotificationFilter};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{self, Page};
use super::runs::{bad_cursor, require_task_scope};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn notification_json(n: &Notification) -> Value {
    json!({
        "id": n.id,
        "user_id": n.user_id,
        "message": n.message,
        "run_id": n.run_id,
        "step_id": n.step_id,
        "read": n.read_at.is_some(),
        "read_at": n.read_at,
        "created_at": n.created_at,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListNotifications {
    /// Only this user's notifications.
    pub user_id: Option<String>,
    /// `true`: unread only; `false`: read only.
    pub unread: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn require_read(principal: &Principal) -> ApiResult<()> {
    if principal.has(Scope::RunsRead)
        || principal.has(Scope::RunsWrite)
        || principal.has(Scope::TasksWrite)
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(Scope::RunsRead.as_str().into()))
    }
}

/// Notifications, unread first, then newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(ListNotifications),
    responses((status = 200, description = "A page of notifications", body = crate::api::wire::NotificationPage)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListNotifications>,
) -> ApiResult<Json<Page<Value>>> {
    require_read(&principal)?;
    let filter = NotificationFilter {
        user_id: query.user_id,
        unread: query.unread,
        limit: pagination::limit(query.limit)?,
        cursor: query.cursor,
    };
    let page = state
        .engine()
        .notification_page(&principal.workspace_id, &filter)
        .await
        .map_err(bad_cursor)?;
    Ok(Json(Page {
        items: page.items.iter().map(notification_json).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Mark one notification read (again: no change); answers it.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications", params(crate::api::wire::IdPath),
    responses((status = 200, description = "The notification", body = crate::api::wire::NotificationDoc),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    require_task_scope(&principal)?;
    let n = state
        .engine()
        .mark_notification_read(&principal.workspace_id, &id)
        .await?;
    Ok(Json(notification_json(&n)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkAllBody {
    /// Whose notifications.
    pub user_id: String,
}

/// Mark every unread notification of a user read; answers how many changed.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", request_body = MarkAllBody,
    responses((status = 200, description = "`{\"marked\": N}`", body = crate::api::wire::MarkedDoc)))]
pub async fn mark_all_read(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<MarkAllBody>,
) -> ApiResult<Json<Value>> {
    require_task_scope(&principal)?;
    let marked = state
        .engine()
        .mark_all_notifications_read(&principal.workspace_id, &body.user_id)
        .await?;
    Ok(Json(json!({ "marked": marked })))
}
