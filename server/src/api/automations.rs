//! Automations: CRUD over immutable versions, status, versions, validate, test, promote
//! (DESIGN §12). Bodies are the definition verbatim (JSON or `text/plain` DSL).
//!
//! An automation answers as its definition's fields plus `id`, `version`, `status`,
//! `environment`, `created_at`, `updated_at` and the `definition` itself. DELETE archives
//! (runs keep pointing at it); an archived automation is read-only (409 on edits).

use automations_runtime::model::{
    Automation, AutomationStatus, AutomationVersion, EnvironmentKind,
};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::extract::{ApiJson, ApiPath, ApiQuery, TextOrJson};
use super::pagination::{self, Page};
use crate::auth::{Principal, Scope};
use crate::error::{ApiDiagnostic, ApiError, ApiResult};
use crate::state::AppState;
use automations_compiler::ir::Status;
use automations_compiler::sourced::DiagnosticSource;
use automations_compiler::{codes, suggest};
use automations_runtime::hooks::Warnings;
use automations_runtime::secrets;

/// The wire form of an automation (current version), its secrets redacted
/// (`automations_runtime::secrets`).
pub fn automation_json(a: &Automation, definition: &Value) -> Value {
    let definition = &redacted(definition);
    let mut out = match definition {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    out.insert("id".into(), json!(a.id));
    out.insert("name".into(), json!(a.name));
    out.insert("version".into(), json!(a.current_version));
    out.insert("status".into(), json!(a.status.as_str()));
    out.insert("environment".into(), json!(a.environment.as_str()));
    out.insert("shadows_id".into(), json!(a.shadows_id));
    out.insert("created_at".into(), json!(a.created_at));
    out.insert("updated_at".into(), json!(a.updated_at));
    out.insert("definition".into(), definition.clone());
    Value::Object(out)
}

/// A definition as answered: secrets replaced by the placeholder.
fn redacted(definition: &Value) -> Value {
    let mut d = definition.clone();
    secrets::redact_definition(&mut d);
    d
}

fn version_json(v: &AutomationVersion) -> Value {
    json!({
        "automation_id": v.automation_id,
        "version": v.version,
        "status": v.status.as_str(),
        "environment": v.environment.as_str(),
        "created_at": v.created_at,
        "definition": redacted(&v.definition),
    })
}

/// The stored definition of the current version, with the live status and environment
/// (status changes do not make versions).
async fn current(state: &AppState, ws: &str, id: &str) -> ApiResult<(Automation, Value)> {
    let engine = state.engine();
    let a = engine.automation(ws, id).await?;
    let mut definition = engine.automation_definition(ws, id).await?.definition;
    if let Value::Object(m) = &mut definition {
        m.insert("status".into(), json!(a.status.as_str()));
        m.insert("environment".into(), json!(a.environment.as_str()));
    }
    Ok((a, definition))
}

/// The automation as it is now, as the body of a response with its ETag.
async fn current_response(
    state: &AppState,
    ws: &str,
    id: &str,
    status: StatusCode,
) -> ApiResult<Response> {
    let (a, definition) = current(state, ws, id).await?;
    Ok(with_etag(status, &a, automation_json(&a, &definition)))
}

/// Checks `body` against the caller's workspace (schema and plugins) and stores it as the
/// next version of `id` when its version is still `expected` (any version when `None`);
/// returns the automation as written and the warnings. Redacted placeholders keep the
/// secrets of the version they replace, and the write is conditional on that version so
/// a secret is never taken from a version the caller did not replace.
async fn store_new_version(
    state: &AppState,
    principal: &Principal,
    id: &str,
    body: &TextOrJson,
    expected: Option<i64>,
) -> ApiResult<(Automation, Vec<ApiDiagnostic>)> {
    let ws = &principal.workspace_id;
    let accepted = state
        .definitions()
        .read(ws, body, plugin_catalog(state, principal))
        .await?;
    let mut last = None;
    for _ in 0..16 {
        let stored = state.engine().automation_definition(ws, id).await?;
        let base = expected.unwrap_or(stored.version);
        let mut definition = accepted.definition.clone();
        keep_secrets(&mut definition, Some(&stored.definition))?;
        let written = state
            .engine()
            .update_automation_at(ws, id, definition, Some(base), &principal.actor())
            .await;
        match written {
            Err(stale @ automations_runtime::RuntimeError::Stale { .. }) if expected.is_none() => {
                last = Some(stale.to_string());
            }
            other => {
                let (a, engine_warnings) = other?;
                return Ok((a, with_engine_warnings(accepted.warnings, &engine_warnings)));
            }
        }
    }
    Err(ApiError::Conflict(last.unwrap_or_else(|| {
        format!("automation {id} kept changing during the write; try again")
    })))
}

/// Gives redacted placeholders back their stored secrets (`stored`: the version being
/// replaced); a placeholder with nothing to keep is a 422 pointing at it.
pub(crate) fn keep_secrets(definition: &mut Value, stored: Option<&Value>) -> ApiResult<()> {
    secrets::restore_definition(definition, stored).map_err(|problems| {
        let diagnostics = problems
            .into_iter()
            .map(|p| ApiDiagnostic::error(codes::INVALID_VALUE, p.message).at_pointer(p.pointer))
            .collect();
        ApiError::unprocessable(
            "invalid_definition",
            "the definition holds a redacted placeholder where no secret is stored",
            diagnostics,
        )
    })
}

/// The answer to a write (create, update, status change): the automation as stored, with
/// `warnings` (the checker's, and the engine's static-cycle warnings).
pub(crate) async fn written_response(
    state: &AppState,
    ws: &str,
    id: &str,
    status: StatusCode,
    warnings: Vec<ApiDiagnostic>,
) -> ApiResult<Response> {
    let (a, definition) = current(state, ws, id).await?;
    let mut body = automation_json(&a, &definition);
    if let Value::Object(map) = &mut body {
        map.insert("warnings".into(), json!(warnings));
    }
    Ok(with_etag(status, &a, body))
}

/// Adds the engine's warnings that the checker cannot see (W0307: static trigger cycles
/// across the workspace's automations); the engine's copies of the checker's own warnings
/// are not used, the checker's carry positions in the body as it was sent.
pub(crate) fn with_engine_warnings(
    mut warnings: Vec<ApiDiagnostic>,
    engine: &Warnings,
) -> Vec<ApiDiagnostic> {
    for d in &engine.workspace {
        // A PATCH of fields and status answers both writes: one copy of each warning.
        if warnings
            .iter()
            .any(|w| w.code == d.code && w.message == d.message)
        {
            continue;
        }
        warnings.push(ApiDiagnostic::from_compiler(d, &DiagnosticSource::None));
    }
    warnings
}

fn with_etag(status: StatusCode, a: &Automation, body: Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", a.current_version)) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// The version an `If-Match` header names: `None` without the header or for `*`. A tag
/// that names no version of this automation can never match: 409 at once. The engine
/// compares the version again inside its write transaction, where it decides.
fn if_match(headers: &HeaderMap, a: &Automation) -> ApiResult<Option<i64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let wanted = text.trim_start_matches("W/").trim_matches('"');
    match wanted.parse::<i64>() {
        Ok(v) if v == a.current_version => Ok(Some(v)),
        _ => Err(ApiError::Conflict(format!(
            "If-Match {text} is stale: the current version is {}",
            a.current_version
        ))),
    }
}

fn reject_archived(a: &Automation) -> ApiResult<()> {
    if a.status == AutomationStatus::Archived {
        return Err(ApiError::Conflict(format!(
            "automation {} is archived and read-only",
            a.id
        )));
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListAutomations {
    #[param(schema_with = crate::api::openapi::choices::automation_status)]
    pub status: Option<String>,
    #[param(schema_with = crate::api::openapi::choices::environment)]
    pub environment: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// List automations, newest first.
#[utoipa::path(get, path = "/api/v1/automations", tag = "automations", params(ListAutomations),
    responses((status = 200, description = "A page of automations", body = crate::api::wire::AutomationPage), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListAutomations>,
) -> ApiResult<Json<Page<Value>>> {
    principal.require_read(Scope::AutomationsRead, Scope::AutomationsWrite)?;
    let limit = pagination::limit(query.limit)?;
    let status = parse_filter(query.status.as_deref(), AutomationStatus::parse, "status")?;
    let environment = parse_filter(
        query.environment.as_deref(),
        EnvironmentKind::parse,
        "environment",
    )?;
    let mut all = state.engine().automations(&principal.workspace_id).await?;
    all.retain(|a| {
        status.is_none_or(|s| a.status == s) && environment.is_none_or(|e| a.environment == e)
    });
    // The store lists them newest first (created_at, then id); the cursor is the id of the
    // last automation of the previous page.
    let page = pagination::paginate(all, |a| a.id.clone(), limit, query.cursor.as_deref())?;
    let mut items = Vec::with_capacity(page.items.len());
    for a in &page.items {
        let (a, definition) = current(&state, &principal.workspace_id, &a.id).await?;
        items.push(automation_json(&a, &definition));
    }
    Ok(Json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

pub(crate) fn parse_filter<T>(
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    name: &str,
) -> ApiResult<Option<T>> {
    match value {
        None => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request("invalid_query", format!("unknown {name} `{v}`"))),
    }
}

/// Create an automation from the definition (JSON verbatim, or DSL as text/plain).
#[utoipa::path(post, path = "/api/v1/automations", tag = "automations",
    request_body(content = Object, description = "The definition (DESIGN §3.1), or DSL as text/plain"),
    responses((status = 201, description = "Created", body = crate::api::wire::AutomationDoc), (status = 400, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: TextOrJson,
) -> ApiResult<Response> {
    principal.require(Scope::AutomationsWrite)?;
    let mut accepted = state
        .definitions()
        .read(
            &principal.workspace_id,
            &body,
            plugin_catalog(&state, &principal),
        )
        .await?;
    keep_secrets(&mut accepted.definition, None)?;
    let (a, engine_warnings) = state
        .engine()
        .create_automation_by(
            &principal.workspace_id,
            accepted.definition,
            &principal.actor(),
        )
        .await?;
    let warnings = with_engine_warnings(accepted.warnings, &engine_warnings);
    let mut response = written_response(
        &state,
        &principal.workspace_id,
        &a.id,
        StatusCode::CREATED,
        warnings,
    )
    .await?;
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/automations/{}", a.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// One automation (its current version).
#[utoipa::path(get, path = "/api/v1/automations/{id}", tag = "automations", params(crate::api::wire::IdPath),
    responses((status = 200, description = "The automation", body = crate::api::wire::AutomationDoc), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    principal.require_read(Scope::AutomationsRead, Scope::AutomationsWrite)?;
    current_response(&state, &principal.workspace_id, &id, StatusCode::OK).await
}

/// Replace the definition: a new immutable version.
#[utoipa::path(put, path = "/api/v1/automations/{id}", tag = "automations", params(crate::api::wire::IdPath),
    request_body(content = Object, description = "The whole definition"),
    responses((status = 200, description = "The new version", body = crate::api::wire::AutomationDoc), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: TextOrJson,
) -> ApiResult<Response> {
    principal.require(Scope::AutomationsWrite)?;
    let ws = &principal.workspace_id;
    let existing = state.engine().automation(ws, &id).await?;
    let expected = if_match(&headers, &existing)?;
    reject_archived(&existing)?;
    let (_, warnings) = store_new_version(&state, &principal, &id, &body, expected).await?;
    written_response(&state, ws, &id, StatusCode::OK, warnings).await
}

/// Change some fields. `{"status": ...}` alone changes the status; other fields make a new
/// version of the definition with those fields replaced.
#[utoipa::path(patch, path = "/api/v1/automations/{id}", tag = "automations", params(crate::api::wire::IdPath),
    request_body(content = Object, description = "Fields of the definition to replace"),
    responses((status = 200, description = "The automation", body = crate::api::wire::AutomationDoc), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn patch(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    principal.require(Scope::AutomationsWrite)?;
    let ws = &principal.workspace_id;
    let Value::Object(mut fields) = body else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "a PATCH body must be a JSON object",
        ));
    };
    let status = match fields.remove("status") {
        None => None,
        Some(Value::String(s)) => Some(parse_status(&s)?),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "`status` must be a string",
            ));
        }
    };
    let existing = state.engine().automation(ws, &id).await?;
    let mut expected = if_match(&headers, &existing)?;
    let mut warnings = Vec::new();
    if !fields.is_empty() {
        let written = patch_fields(&state, &principal, &id, &fields, expected).await?;
        expected = Some(written.0.current_version);
        warnings = written.1;
    }
    if let Some(status) = status {
        let (_, engine_warnings) = state
            .engine()
            .change_automation_status_at(ws, &id, status, expected, &principal.actor())
            .await?;
        warnings = with_engine_warnings(warnings, &engine_warnings);
    }
    written_response(&state, ws, &id, StatusCode::OK, warnings).await
}

/// Stores the current definition with `fields` replaced as a new version. The merge is
/// made on the version read, and written only if that version is still current: with
/// `expected` (If-Match) a concurrent edit makes it 409; without, the merge is made again on
/// the newer version, so no concurrent edit is lost either way.
async fn patch_fields(
    state: &AppState,
    principal: &Principal,
    id: &str,
    fields: &Map<String, Value>,
    expected: Option<i64>,
) -> ApiResult<(Automation, Vec<ApiDiagnostic>)> {
    let ws = &principal.workspace_id;
    let mut last = None;
    for _ in 0..16 {
        let (existing, definition) = current(state, ws, id).await?;
        reject_archived(&existing)?;
        let mut merged = definition.as_object().cloned().unwrap_or_default();
        merged.extend(fields.clone());
        let text = serde_json::to_string(&Value::Object(merged)).map_err(ApiError::internal)?;
        let body = TextOrJson {
            text,
            format: super::extract::BodyFormat::Json,
        };
        let base = expected.unwrap_or(existing.current_version);
        match store_new_version(state, principal, id, &body, Some(base)).await {
            Err(ApiError::Conflict(message)) if expected.is_none() => last = Some(message),
            other => return other,
        }
    }
    Err(ApiError::Conflict(last.unwrap_or_else(|| {
        format!("automation {id} kept changing during the PATCH; try again")
    })))
}

fn parse_status(s: &str) -> ApiResult<AutomationStatus> {
    AutomationStatus::parse(s).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_status",
            format!("unknown status `{s}` (draft, active, paused or archived)"),
            vec![{
                let mut d =
                    ApiDiagnostic::error(codes::INVALID_VALUE, format!("unknown status `{s}`"))
                        .at_pointer("/status");
                d.suggestion = suggest::closest(s, Status::ALL.iter().map(|v| v.as_str()));
                d
            }],
        )
    })
}

/// Archive the automation (soft delete: its runs stay readable). 204.
#[utoipa::path(delete, path = "/api/v1/automations/{id}", tag = "automations", params(crate::api::wire::IdPath),
    responses((status = 204, description = "Archived"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    principal.require(Scope::AutomationsWrite)?;
    let existing = state
        .engine()
        .automation(&principal.workspace_id, &id)
        .await?;
    let expected = if_match(&headers, &existing)?;
    state
        .engine()
        .archive_automation_at(&principal.workspace_id, &id, expected, &principal.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `draft`, `active`, `paused` or `archived`.
    #[schema(schema_with = crate::api::openapi::choices::automation_status)]
    pub status: String,
}

/// Change the status (`{"status": "active"}`).
#[utoipa::path(post, path = "/api/v1/automations/{id}/status", tag = "automations", params(crate::api::wire::IdPath), request_body = StatusBody,
    responses((status = 200, description = "The automation", body = crate::api::wire::AutomationDoc), (status = 409, body = crate::error::ErrorBody),
        (status = 422, description = "Not a status an automation can be set to", body = crate::error::ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StatusBody>,
) -> ApiResult<Response> {
    principal.require(Scope::AutomationsWrite)?;
    let status = parse_status(&body.status)?;
    let existing = state
        .engine()
        .automation(&principal.workspace_id, &id)
        .await?;
    let expected = if_match(&headers, &existing)?;
    let (_, engine_warnings) = state
        .engine()
        .change_automation_status_at(
            &principal.workspace_id,
            &id,
            status,
            expected,
            &principal.actor(),
        )
        .await?;
    let warnings = with_engine_warnings(Vec::new(), &engine_warnings);
    written_response(
        &state,
        &principal.workspace_id,
        &id,
        StatusCode::OK,
        warnings,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Every version, newest first.
#[utoipa::path(get, path = "/api/v1/automations/{id}/versions", tag = "automations", params(crate::api::wire::IdPath, PageQuery),
    responses((status = 200, description = "A page of versions", body = crate::api::wire::VersionPage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn versions(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Value>>> {
    principal.require_read(Scope::AutomationsRead, Scope::AutomationsWrite)?;
    let limit = pagination::limit(query.limit)?;
    // Newest version first (the store's order).
    let all = state
        .engine()
        .automation_versions(&principal.workspace_id, &id)
        .await?;
    let page = pagination::paginate(
        all,
        |v| v.version.to_string(),
        limit,
        query.cursor.as_deref(),
    )?;
    Ok(Json(page.map(|v| version_json(&v))))
}

/// Check a definition without storing it: the compiler's diagnostics.
#[utoipa::path(post, path = "/api/v1/automations/validate", tag = "automations",
    request_body(content = Object, description = "A definition (JSON, or DSL as text/plain)"),
    responses((status = 200, description = "`valid`, `errors`, `warnings` and the diagnostics", body = crate::api::wire::ValidationDoc),
        (status = 400, body = crate::error::ErrorBody)))]
pub async fn validate(
    State(state): State<AppState>,
    principal: Principal,
    body: TextOrJson,
) -> ApiResult<Json<Value>> {
    principal.require_read(Scope::AutomationsRead, Scope::AutomationsWrite)?;
    let report = state
        .definitions()
        .check(
            &principal.workspace_id,
            &body,
            plugin_catalog(&state, &principal),
        )
        .await?;
    Ok(Json(json!({
        "valid": report.errors() == 0 && report.definition.is_some(),
        "errors": report.errors(),
        "warnings": report.warnings(),
        "diagnostics": report.diagnostics,
        "definition": report.definition.as_ref().map(redacted),
    })))
}

/// Make a sandbox automation live; answers the live automation.
#[utoipa::path(post, path = "/api/v1/automations/{id}/promote", tag = "automations", params(crate::api::wire::IdPath),
    responses((status = 200, description = "The live automation", body = crate::api::wire::AutomationDoc), (status = 409, body = crate::error::ErrorBody)))]
pub async fn promote(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    principal.require(Scope::AutomationsWrite)?;
    let ws = &principal.workspace_id;
    let sandbox = state.engine().automation(ws, &id).await?;
    let expected = if_match(&headers, &sandbox)?;
    let live = state
        .engine()
        .promote_at(ws, &id, expected, &principal.actor())
        .await?;
    current_response(&state, &principal.workspace_id, &live.id, StatusCode::OK).await
}

/// The workspace's plugins for the compiler's check of `plugin` steps (`None` when the
/// server runs without plugins).
pub(crate) fn plugin_catalog(
    state: &AppState,
    principal: &Principal,
) -> Option<automations_compiler::check::PluginCatalog> {
    state
        .plugins()
        .map(|registry| registry.catalog(&principal.workspace_id))
}
