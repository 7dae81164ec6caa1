//! Workspaces, API tokens (stored hashed, with scopes) and the sandbox switch.

use chrono::Utc;
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Engine;
use crate::error::{Result, RuntimeError};
use crate::model::{ApiToken, AuditEntry, Workspace, new_id};
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

impl ApiToken {
    /// Whether the token grants `scope` (`admin` grants everything).
    pub fn allows(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope || s == "admin")
    }
}

impl<S: Store> Engine<S> {
    /// The workspace called `name`, created when missing.
    pub async fn ensure_workspace(&self, name: &str) -> Result<Workspace> {
        if let Some(w) = self.inner.store.workspace_by_name(name).await? {
            return Ok(w);
        }
        let w = Workspace {
            id: new_id("ws"),
            name: name.to_string(),
            sandbox_active: false,
            created_at: Utc::now(),
        };
        let mut tx = self.inner.store.begin().await?;
        tx.insert_workspace(&w).await?;
        tx.commit().await?;
        Ok(w)
    }

    pub async fn workspace(&self, id: &str) -> Result<Workspace> {
        self.inner
            .store
            .workspace(id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("workspace", id))
    }

    /// Creates a token; returns it with its plain text, shown once. `value` sets the text
    /// (for `AUTOMATIONS_ADMIN_TOKEN`), otherwise it is random.
    pub async fn create_token(
        &self,
        workspace_id: &str,
        name: &str,
        scopes: &[String],
        value: Option<&str>,
    ) -> Result<(ApiToken, String)> {
        if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
            return Err(RuntimeError::BadRequest(format!("unknown scope {bad:?}")));
        }
        let plain = value.map(str::to_string).unwrap_or_else(generate_token);
        let token = ApiToken {
            id: new_id("tok"),
            workspace_id: workspace_id.to_string(),
            name: name.to_string(),
            scopes: scopes.to_vec(),
            created_at: Utc::now(),
        };
        let mut tx = self.inner.store.begin().await?;
        tx.insert_token(&token, &hash_token(&plain)).await?;
        tx.insert_audit(&AuditEntry {
            workspace_id: workspace_id.to_string(),
            actor: "system".into(),
            action: "token.create".into(),
            target: token.id.clone(),
            details: json!({ "scopes": scopes }),
            created_at: token.created_at,
        })
        .await?;
        tx.commit().await?;
        Ok((token, plain))
    }

    /// The token behind a bearer string, `None` when unknown or revoked.
    pub async fn verify_token(&self, plain: &str) -> Result<Option<ApiToken>> {
        self.inner.store.token_by_hash(&hash_token(plain)).await
    }

    /// Turns the Configuration Sandbox on or off; sandbox automations start or stop
    /// receiving live events (in dry-run).
    pub async fn set_sandbox(&self, workspace_id: &str, on: bool) -> Result<Workspace> {
        let mut tx = self.inner.store.begin().await?;
        if !tx.set_sandbox_active(workspace_id, on).await? {
            return Err(RuntimeError::not_found("workspace", workspace_id));
        }
        tx.commit().await?;
        self.rebuild_index().await?;
        self.workspace(workspace_id).await
    }
}
