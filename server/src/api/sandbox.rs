//! The Configuration Sandbox switch of a workspace (DESIGN §7): while it is on, active
//! sandbox automations receive live events and run in dry-run.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::auth::{Principal, Scope};
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SandboxState {
    pub active: bool,
    pub workspace: String,
}

/// Whether the sandbox is on.
#[utoipa::path(get, path = "/api/v1/sandbox", tag = "sandbox", responses((status = 200, body = SandboxState)))]
pub async fn get_state(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<SandboxState>> {
    principal.require_read(Scope::AutomationsRead, Scope::SandboxAdmin)?;
    let w = state.engine().workspace(&principal.workspace_id).await?;
    Ok(Json(SandboxState {
        active: w.sandbox_active,
        workspace: w.name,
    }))
}

/// Turn the sandbox on.
#[utoipa::path(post, path = "/api/v1/sandbox/activate", tag = "sandbox", responses((status = 200, body = SandboxState)))]
pub async fn activate(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<SandboxState>> {
    set(state, principal, true).await
}

/// Turn the sandbox off.
#[utoipa::path(post, path = "/api/v1/sandbox/deactivate", tag = "sandbox", responses((status = 200, body = SandboxState)))]
pub async fn deactivate(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<SandboxState>> {
    set(state, principal, false).await
}

async fn set(state: AppState, principal: Principal, on: bool) -> ApiResult<Json<SandboxState>> {
    principal.require(Scope::SandboxAdmin)?;
    let w = state
        .engine()
        .set_sandbox(&principal.workspace_id, on, &principal.actor())
        .await?;
    Ok(Json(SandboxState {
        active: w.sandbox_active,
        workspace: w.name,
    }))
}
