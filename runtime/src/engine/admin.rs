//! Workspaces, API tokens (stored hashed, with scopes) and the sandbox switch.

use chrono::Utc;
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Engine;
use crate::error::{Result, RuntimeError};
use crate::model::{
    Actor, ApiToken, AuditAction, AuditEntry, AuditFilter, Page, RateLimit, Workspace, new_id,
};
use crate::store::{Store, StoreTx};

/// Every scope a token can hold (`admin` implies all of them).
pub const SCOPES: [&str; 10] = [
    "automations:read",
    "automations:write",
    "runs:read",
    "runs:write",
    "records:read",
    "records:write",
    "tasks:write",
    "plugins:admin",
    "sandbox:admin",
    "admin",
];

/// SHA-256 hex of a token: what the database stores instead of the token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn generate_token() -> String {
    let bytes: [u8; 24] = rand::rng().random();
    format!("atk_{}", hex::encode(bytes))
}

/// What [`Engine::create_token`] makes.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    pub workspace_id: String,
    /// A label shown in the audit log and `token list` (`admin`, `cli`, ...).
    pub name: String,
    pub scopes: Vec<String>,
    /// The token's text (`AUTOMATIONS_ADMIN_TOKEN`); random when `None`.
    pub value: Option<String>,
    /// Its own rate limit; `None` follows the server's.
    pub rate_limit: Option<RateLimit>,
}

impl ApiToken {
    /// Whether the token grants `scope` (`admin` grants everything).
    pub fn allows(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope || s == "admin")
    }
}

/// The workspace called `name` in `store`, created when missing. With the other `*_in`
/// functions it serves the command line, which must not start an engine (an engine
/// re-queues the running runs of a server sharing the database).
pub async fn ensure_workspace_in<S: Store>(store: &S, name: &str) -> Result<Workspace> {
    if let Some(w) = store.workspace_by_name(name).await? {
        return Ok(w);
    }
    let w = Workspace {
        id: new_id("ws"),
        name: name.to_string(),
        sandbox_active: false,
        created_at: crate::model::stored_now(),
    };
    let mut tx = store.begin().await?;
    tx.insert_workspace(&w).await?;
    tx.commit().await?;
    Ok(w)
}

/// Creates a token in `store` (audited as made by `actor`); returns it with its plain
/// text, shown once.
pub async fn create_token_in<S: Store>(
    store: &S,
    new: &NewToken,
    actor: &Actor,
) -> Result<(ApiToken, String)> {
    if let Some(bad) = new.scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
        return Err(RuntimeError::BadRequest(format!("unknown scope {bad:?}")));
    }
    // A scope named twice is granted once (the CLI's list parser does the same), so a
    // request repeating one cannot make a token whose every answer is that long.
    let mut scopes: Vec<String> = Vec::new();
    for scope in &new.scopes {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    let plain = new.value.clone().unwrap_or_else(generate_token);
    let token = ApiToken {
        id: new_id("tok"),
        workspace_id: new.workspace_id.clone(),
        name: new.name.clone(),
        scopes,
        rate_limit: new.rate_limit,
        created_at: crate::model::stored_now(),
        revoked_at: None,
    };
    let details = json!({
        "name": token.name,
        "scopes": token.scopes,
        "rate_limit": token.rate_limit,
    });
    let entry = AuditEntry::new(
        &token.workspace_id,
        actor,
        AuditAction::TokenCreate,
        &token.id,
        details,
    );
    let mut tx = store.begin().await?;
    tx.insert_token(&token, &hash_token(&plain)).await?;
    tx.insert_audit(&entry).await?;
    tx.commit().await?;
    Ok((token, plain))
}

/// Revokes a token of workspace `ws` in `store` at once (its next request is a 401);
/// NotFound when there is no such unrevoked token.
pub async fn revoke_token_in<S: Store>(store: &S, ws: &str, id: &str, actor: &Actor) -> Result<()> {
    let mut tx = store.begin().await?;
    if !tx.revoke_token(ws, id, Utc::now()).await? {
        return Err(RuntimeError::not_found("token", id));
    }
    let entry = AuditEntry::new(ws, actor, AuditAction::TokenRevoke, id, json!({}));
    tx.insert_audit(&entry).await?;
    tx.commit().await
}

impl<S: Store> Engine<S> {
    /// The workspace called `name`, created when missing.
    pub async fn ensure_workspace(&self, name: &str) -> Result<Workspace> {
        ensure_workspace_in(&self.inner.store, name).await
    }

    pub async fn workspace(&self, id: &str) -> Result<Workspace> {
        self.inner
            .store
            .workspace(id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("workspace", id))
    }

    /// Creates a token; returns it with its plain text, shown once.
    pub async fn create_token(&self, new: &NewToken, actor: &Actor) -> Result<(ApiToken, String)> {
        create_token_in(&self.inner.store, new, actor).await
    }

    /// Revokes a token of workspace `ws` at once (its next request is a 401); NotFound when
    /// there is no such unrevoked token.
    pub async fn revoke_token(&self, ws: &str, id: &str, actor: &Actor) -> Result<()> {
        revoke_token_in(&self.inner.store, ws, id, actor).await
    }

    /// Every token of workspace `ws` (revoked ones included), oldest first.
    pub async fn tokens(&self, ws: &str) -> Result<Vec<ApiToken>> {
        self.inner.store.tokens(Some(ws)).await
    }

    /// A page of the workspace's audit log, newest first.
    pub async fn audit_log(&self, ws: &str, filter: &AuditFilter) -> Result<Page<AuditEntry>> {
        self.inner.store.audit_log(ws, filter).await
    }

    /// The token behind a bearer string, `None` when unknown or revoked.
    pub async fn verify_token(&self, plain: &str) -> Result<Option<ApiToken>> {
        self.inner.store.token_by_hash(&hash_token(plain)).await
    }

    /// Turns the Configuration Sandbox on or off; sandbox automations start or stop
    /// receiving live events (in dry-run).
    pub async fn set_sandbox(
        &self,
        workspace_id: &str,
        on: bool,
        actor: &Actor,
    ) -> Result<Workspace> {
        let mut tx = self.inner.store.begin().await?;
        if !tx.set_sandbox_active(workspace_id, on).await? {
            return Err(RuntimeError::not_found("workspace", workspace_id));
        }
        let action = if on {
            AuditAction::SandboxActivate
        } else {
            AuditAction::SandboxDeactivate
        };
        let entry = AuditEntry::new(workspace_id, actor, action, workspace_id, json!({}));
        tx.insert_audit(&entry).await?;
        tx.commit().await?;
        self.rebuild_index().await?;
        self.workspace(workspace_id).await
    }
}
