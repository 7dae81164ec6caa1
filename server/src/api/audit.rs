//! `GET /audit`: the workspace's append-only audit log (admin scope only), newest first.
//!
//! Each entry says who (the token's id and name, never its secret; `system` or `cli` for
//! start-up and the command line), what (`action`, the target's `kind` and id, details
//! such as versions, statuses, scopes, capabilities) and when. Entries are written by the
//! engine in the transaction of their change; this module only reads them.

use automations_runtime::model::{AuditAction, AuditEntry, AuditFilter};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::ApiQuery;
use super::pagination::{self, Page};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The kinds of target an entry can have (the part of `action` before the dot).
pub const KINDS: [&str; 6] = ["automation", "plugin", "token", "sandbox", "task", "schema"];

pub(crate) const ACTIONS: [AuditAction; 13] = [
    AuditAction::AutomationCreate,
    AuditAction::AutomationUpdate,
    AuditAction::AutomationStatus,
    AuditAction::AutomationDelete,
    AuditAction::AutomationPromote,
    AuditAction::PluginUpload,
    AuditAction::PluginGrant,
    AuditAction::TokenCreate,
    AuditAction::TokenRevoke,
    AuditAction::SandboxActivate,
    AuditAction::SandboxDeactivate,
    AuditAction::TaskComplete,
    AuditAction::SchemaExtend,
];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListAudit {
    /// The target's kind: `automation`, `plugin`, `token`, `sandbox`, `task` or `schema`.
    #[param(schema_with = crate::api::openapi::choices::audit_kind)]
    pub kind: Option<String>,
    /// One action, e.g. `automation.update` or `task.complete`.
    #[param(schema_with = crate::api::openapi::choices::audit_action)]
    pub action: Option<String>,
    /// The target's id (a plugin's name).
    pub target: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The audit log, newest first (admin scope).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(ListAudit),
    responses((status = 200, description = "A page of audit entries", body = crate::api::wire::AuditPage),
        (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListAudit>,
) -> ApiResult<Json<Page<Value>>> {
    principal.require(Scope::Admin)?;
    let filter = AuditFilter {
        kind: query.kind.map(parse_kind).transpose()?,
        action: query.action.as_deref().map(parse_action).transpose()?,
        target: query.target,
        limit: pagination::limit(query.limit)?,
        cursor: query.cursor,
    };
    let page = state
        .engine()
        .audit_log(&principal.workspace_id, &filter)
        .await
        .map_err(super::runs::bad_cursor)?;
    Ok(Json(Page {
        items: page.items.iter().map(entry_json).collect(),
        next_cursor: page.next_cursor,
    }))
}

fn entry_json(entry: &AuditEntry) -> Value {
    json!({
        "id": entry.id.to_string(),
        "action": entry.action,
        "kind": entry.action.target_kind(),
        "target": entry.target,
        "actor": entry.actor,
        "details": entry.details,
        "created_at": entry.created_at,
    })
}

fn parse_kind(kind: String) -> ApiResult<String> {
    if KINDS.contains(&kind.as_str()) {
        Ok(kind)
    } else {
        Err(ApiError::bad_request(
            "invalid_query",
            format!("unknown kind `{kind}` (known: {})", KINDS.join(", ")),
        ))
    }
}

fn parse_action(action: &str) -> ApiResult<AuditAction> {
    AuditAction::parse(action).ok_or_else(|| {
        let known: Vec<&str> = ACTIONS.iter().map(|a| a.as_str()).collect();
        ApiError::bad_request(
            "invalid_query",
            format!("unknown action `{action}` (known: {})", known.join(", ")),
        )
    })
}
