//! API tokens of the caller's workspace over HTTP (admin scope only): list them (never
//! their secret: only a SHA-256 of it is stored), create one (its text is answered once,
//! in the 201, and never again), revoke one (its next request is a 401). Creation and
//! revocation are audited as made by the calling token. Another workspace's token id is a
//! 404, as any id that matches nothing.

use automations_runtime::NewToken;
use automations_runtime::model::ApiToken;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{self, Page};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListTokens {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The workspace's tokens, newest first, revoked ones included (with `revoked_at`).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(ListTokens),
    responses((status = 200, description = "A page of tokens (no secrets)", body = crate::api::wire::TokenPage),
        (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListTokens>,
) -> ApiResult<Json<Page<Value>>> {
    principal.require(Scope::Admin)?;
    let limit = pagination::limit(query.limit)?;
    let mut tokens = state.engine().tokens(&principal.workspace_id).await?;
    tokens.reverse();
    let page = pagination::paginate(tokens, |t| t.id.clone(), limit, query.cursor.as_deref())?;
    Ok(Json(page.map(|token| token_json(&token))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// A label shown in listings and the audit log (1 to 200 characters, not all blank).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Scopes, e.g. `["automations:read", "runs:write"]`; `admin` for all of them.
    #[schema(schema_with = crate::api::openapi::choices::token_scopes)]
    pub scopes: Vec<String>,
    /// Its own request rate: `N/s`, `N/min`, `N/h` or `off`; absent: the server's.
    #[schema(pattern = r"^(off|[0-9]+(\.[0-9]+)?/(s|min|h))$")]
    pub rate_limit: Option<String>,
    /// Requests it may send at once before the rate applies (with `rate_limit`).
    #[schema(minimum = 1)]
    pub rate_burst: Option<f64>,
}

/// Create a token; the answer carries its text (`token`) this once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateToken,
    responses((status = 201, description = "The token with its text, shown once", body = crate::api::wire::CreatedToken),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Scope::Admin)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("`name` must be 1 to 200 characters"));
    }
    if body.scopes.is_empty() {
        return Err(invalid("`scopes` names no scope"));
    }
    let known = automations_runtime::engine::SCOPES;
    if let Some(bad) = body.scopes.iter().find(|s| !known.contains(&s.as_str())) {
        return Err(invalid(&format!(
            "unknown scope `{bad}` (known: {})",
            known.join(", ")
        )));
    }
    let rate_limit = match (&body.rate_limit, body.rate_burst) {
        (None, None) => None,
        (None, Some(_)) => return Err(invalid("`rate_burst` needs `rate_limit`")),
        (Some(rate), burst) => Some(
            crate::rate_limit::parse_rate_limit(rate, burst)
                .map_err(|e| invalid(&format!("`rate_limit`: {e}")))?,
        ),
    };
    let new = NewToken {
        workspace_id: principal.workspace_id.clone(),
        name: name.to_string(),
        scopes: body.scopes,
        value: None,
        rate_limit,
    };
    let (token, plain) = state
        .engine()
        .create_token(&new, &principal.actor())
        .await?;
    let mut answer = token_json(&token);
    answer["token"] = Value::String(plain);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Revoke a token of the workspace at once (204); 404 when it matches no unrevoked token
/// of this workspace.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token's id (`tok_...`)")),
    responses((status = 204, description = "Revoked"), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    principal.require(Scope::Admin)?;
    state
        .engine()
        .revoke_token(&principal.workspace_id, &id, &principal.actor())
        .await?;
    // This server refuses the token from now on; other servers on the same database
    // (PostgreSQL nodes) read it again within the cache's bound, so the answer waits that
    // out and the revoke holds everywhere when it returns.
    state.forget_token(&id);
    tokio::time::sleep(2 * crate::token_cache::TOKEN_CACHE_MAX_AGE).await;
    Ok(StatusCode::NO_CONTENT)
}

fn invalid(message: &str) -> ApiError {
    ApiError::unprocessable("invalid_token", message, Vec::new())
}

/// A token as listed: everything but its secret (which is not stored).
fn token_json(t: &ApiToken) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "scopes": t.scopes,
        "rate_limit": t.rate_limit,
        "created_at": t.created_at,
        "revoked_at": t.revoked_at,
    })
}
