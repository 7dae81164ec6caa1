//! Backtests (issue 23): `POST /automations/{id}/backtest` starts one (202, `Location` of
//! the job), `GET /automations/{id}/backtests[/{backtest_id}]` reads them, `DELETE` or
//! `POST .../cancel` cancels one. The replay runs in the background; nothing it does
//! reaches records, runs, the outbox or the network.

use automations_runtime::backtest::{Backtest, BacktestRequest, DEFAULT_LIMIT, VersionChoice};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::automations::plugin_catalog;
use super::extract::{ApiJson, ApiPath, ApiQuery, BodyFormat, TextOrJson};
use super::pagination::{self, Page};
use super::runs::bad_cursor;
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The range a backtest covers when the body names no `from`: the last 7 days.
const DEFAULT_DAYS: i64 = 7;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestBody {
    /// Start of the range (RFC 3339, inclusive); default 7 days before `to`.
    #[serde(default)]
    pub from: Option<String>,
    /// End of the range (RFC 3339, exclusive); default now.
    #[serde(default)]
    pub to: Option<String>,
    /// At most this many events, oldest first (default 1,000, at most 100,000).
    #[serde(default)]
    pub limit: Option<u64>,
    /// `"draft"` (the current version, default), a version number, or `"sandbox"` (the
    /// sandbox copy of this automation).
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::choices::backtest_version)]
    pub version: Option<Value>,
    /// A definition to replay instead of a stored version (an edit not applied yet, as
    /// `plan --backtest` sends): DSL text as a string, or JSON as an object. Checked like
    /// `validate` (422 with diagnostics); not with `version`.
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::choices::definition_text_or_json)]
    pub definition: Option<Value>,
}

/// The wire form of a backtest: the job without its workspace.
pub fn backtest_json(b: &Backtest) -> Value {
    json!({
        "id": b.id,
        "automation_id": b.automation_id,
        "target_id": b.target_id,
        "version": b.version,
        "request": b.request,
        "status": b.status.as_str(),
        "progress": b.progress,
        "result": b.result,
        "error": b.error,
        "created_at": b.created_at,
        "started_at": b.started_at,
        "finished_at": b.finished_at,
    })
}

fn instant(field: &str, text: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| {
                ApiError::bad_request(
                    "invalid_body",
                    format!("`{field}` must be an RFC 3339 date-time such as 2026-01-31T09:00:00Z ({e}): {t:?}"),
                )
            })
    })
    .transpose()
}

/// The request a body asks for (defaults filled in; a `definition` not yet checked);
/// bounds are the engine's to check.
pub fn request_of(body: BacktestBody) -> ApiResult<BacktestRequest> {
    if body.definition.is_some() && body.version.is_some() {
        return Err(ApiError::bad_request(
            "invalid_body",
            "give `version` or `definition`, not both",
        ));
    }
    let to = instant("to", body.to.as_deref())?.unwrap_or_else(Utc::now);
    let from = instant("from", body.from.as_deref())?
        .unwrap_or_else(|| to - chrono::Duration::days(DEFAULT_DAYS));
    let limit = match body.limit {
        None => DEFAULT_LIMIT,
        Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
    };
    let version = match &body.version {
        None => VersionChoice::Current,
        Some(v) => {
            VersionChoice::from_json(v).map_err(|m| ApiError::bad_request("invalid_body", m))?
        }
    };
    Ok(BacktestRequest {
        from,
        to,
        limit,
        version,
        definition: body.definition,
    })
}

/// Start a backtest: 202 with the queued job and its `Location`.
#[utoipa::path(post, path = "/api/v1/automations/{id}/backtest", tag = "backtests", params(crate::api::wire::IdPath), request_body = BacktestBody,
    responses((status = 202, description = "The queued backtest", body = crate::api::wire::BacktestDoc),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody),
        (status = 422, description = "A definition given in the body has diagnostics", body = crate::error::ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<BacktestBody>,
) -> ApiResult<Response> {
    principal.require(Scope::AutomationsWrite)?;
    let mut req = request_of(body)?;
    if let Some(proposed) = req.definition.take() {
        let body = match proposed {
            Value::String(text) => TextOrJson {
                text,
                format: BodyFormat::Dsl,
            },
            other => TextOrJson {
                text: other.to_string(),
                format: BodyFormat::Json,
            },
        };
        let catalog = plugin_catalog(&state, &principal);
        let accepted = state
            .definitions()
            .read(&principal.workspace_id, &body, catalog)
            .await?;
        req.definition = Some(accepted.definition);
    }
    let b = state
        .engine()
        .start_backtest(&principal.workspace_id, &id, req)
        .await?;
    let mut response = (StatusCode::ACCEPTED, Json(backtest_json(&b))).into_response();
    let location = format!("/api/v1/automations/{}/backtests/{}", b.automation_id, b.id);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListBacktests {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Backtests of an automation, newest first, without their results.
#[utoipa::path(get, path = "/api/v1/automations/{id}/backtests", tag = "backtests", params(crate::api::wire::IdPath, ListBacktests),
    responses((status = 200, description = "A page of backtests", body = crate::api::wire::BacktestPage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ListBacktests>,
) -> ApiResult<Json<Page<Value>>> {
    principal.require_read(Scope::AutomationsRead, Scope::AutomationsWrite)?;
    let limit = pagination::limit(query.limit)?;
    let page = state
        .engine()
        .backtests(&principal.workspace_id, &id, limit, query.cursor.as_deref())
        .await
        .map_err(bad_cursor)?;
    Ok(Json(Page {
        items: page.items.iter().map(backtest_json).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One backtest: its progress, and its result once completed.
#[utoipa::path(get, path = "/api/v1/automations/{id}/backtests/{backtest_id}", tag = "backtests", params(crate::api::wire::BacktestPath),
    responses((status = 200, description = "The backtest", body = crate::api::wire::BacktestDoc), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, backtest_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    principal.require_read(Scope::AutomationsRead, Scope::AutomationsWrite)?;
    let b = state
        .engine()
        .backtest(&principal.workspace_id, &id, &backtest_id)
        .await?;
    Ok(Json(backtest_json(&b)))
}

/// Cancel a queued or running backtest (200 with it; 409 once it completed or failed).
#[utoipa::path(post, path = "/api/v1/automations/{id}/backtests/{backtest_id}/cancel", tag = "backtests", params(crate::api::wire::BacktestPath),
    responses((status = 200, description = "The cancelled backtest", body = crate::api::wire::BacktestDoc), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((id, backtest_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    principal.require(Scope::AutomationsWrite)?;
    let b = state
        .engine()
        .cancel_backtest(&principal.workspace_id, &id, &backtest_id)
        .await?;
    Ok(Json(backtest_json(&b)))
}

/// `DELETE` of a backtest cancels it, as `POST .../cancel` does (the record is kept).
#[utoipa::path(delete, path = "/api/v1/automations/{id}/backtests/{backtest_id}", tag = "backtests", params(crate::api::wire::BacktestPath),
    responses((status = 200, description = "The cancelled backtest", body = crate::api::wire::BacktestDoc), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete(
    state: State<AppState>,
    principal: Principal,
    path: ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    cancel(state, principal, path).await
}
