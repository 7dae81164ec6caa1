//! Bearer-token authentication and scopes (DESIGN §10, §12.1); each request is counted
//! against its token's rate limit (`crate::rate_limit`).
//!
//! A request carries `Authorization: Bearer <token>`; the token is looked up by its SHA-256
//! hash (tokens are never stored in clear) and yields a [`Principal`]: the workspace every
//! query of the request is filtered by, and the scopes it may use. Missing or unknown token:
//! 401. Known token without the scope: 403. This module must never reveal whether an id
//! exists in another workspace: that is the handlers' 404.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use automations_runtime::model::{Actor, RateLimit};

use crate::error::ApiError;
use crate::state::AppState;

/// The scopes of §12.1. `admin` holds all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    AutomationsRead,
    AutomationsWrite,
    RunsRead,
    RunsWrite,
    RecordsRead,
    RecordsWrite,
    TasksWrite,
    PluginsAdmin,
    SandboxAdmin,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 10] = [
        Scope::AutomationsRead,
        Scope::AutomationsWrite,
        Scope::RunsRead,
        Scope::RunsWrite,
        Scope::RecordsRead,
        Scope::RecordsWrite,
        Scope::TasksWrite,
        Scope::PluginsAdmin,
        Scope::SandboxAdmin,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AutomationsRead => "automations:read",
            Scope::AutomationsWrite => "automations:write",
            Scope::RunsRead => "runs:read",
            Scope::RunsWrite => "runs:write",
            Scope::RecordsRead => "records:read",
            Scope::RecordsWrite => "records:write",
            Scope::TasksWrite => "tasks:write",
            Scope::PluginsAdmin => "plugins:admin",
            Scope::SandboxAdmin => "sandbox:admin",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// Parses a comma-separated list such as `automations:write,runs:write`.
    pub fn parse_list(list: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let scope = Scope::parse(part).ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown scope `{part}` (known: {})", known.join(", "))
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        if scopes.is_empty() {
            return Err("at least one scope is required".into());
        }
        Ok(scopes)
    }
}

/// Who is calling: a token of one workspace with its scopes.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: String,
    /// The token's name (for the audit log).
    pub token_name: String,
    pub workspace_id: String,
    pub scopes: Vec<Scope>,
    /// The token's own rate limit; `None` follows the server's.
    pub rate_limit: Option<RateLimit>,
}

impl Principal {
    /// Who the audit log names for this caller's changes: the token's id and name.
    pub fn actor(&self) -> Actor {
        Actor::token(&self.token_id, &self.token_name)
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }

    /// 403 unless the token holds `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(scope.as_str().into()))
        }
    }

    /// Reading runs is allowed by `runs:read` and by `runs:write`, and so on: a write scope
    /// implies the read scope of the same resource.
    pub fn require_read(&self, read: Scope, write: Scope) -> Result<(), ApiError> {
        if self.has(read) || self.has(write) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(read.as_str().into()))
        }
    }
}

/// SHA-256 hex of a token: what is stored and looked up.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random token: `atk_` and 32 random bytes in hex.
pub fn generate_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("atk_{}", hex::encode(bytes))
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token =
            bearer(parts).ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
        let principal = state
            .authenticate(&hash_token(token))
            .await?
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))?;
        state
            .rate_limiter()
            .check(&principal.token_id, principal.rate_limit)?;
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_admin_implies_all() {
        let scopes = Scope::parse_list("automations:write, runs:write").unwrap();
        assert_eq!(scopes, vec![Scope::AutomationsWrite, Scope::RunsWrite]);
        assert!(Scope::parse_list("automations:write,nope").is_err());
        assert!(Scope::parse_list("").is_err());
        let admin = Principal {
            token_id: "t".into(),
            token_name: "admin".into(),
            workspace_id: "w".into(),
            scopes: vec![Scope::Admin],
            rate_limit: None,
        };
        assert!(Scope::ALL.iter().all(|s| admin.has(*s)));
    }

    #[test]
    fn tokens_hash_stably() {
        assert_eq!(hash_token("x"), hash_token("x"));
        assert_ne!(generate_token(), generate_token());
    }
}
