//! `GET/POST /plugins` and `POST /plugins/{name}/grants` (DESIGN §8, §12.1): uploads are
//! `multipart/form-data` with the parts `component` (the .wasm) and `manifest` (JSON).
//! Scope `plugins:admin`. Handlers never run guest code; they validate and precompile.

use axum::Json;
use axum::body::{Body, HttpBody};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::automations::PageQuery;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination;
use crate::auth::{Principal, Scope};
use crate::error::{ApiDiagnostic, ApiError, ApiResult};
use crate::plugins::{PluginRegistry, RegistryError};
use crate::state::AppState;

/// The default body limit of an upload (`serve --plugin-upload-limit`): components built
/// by language toolchains are large (a Python one is ~18 MB, a JavaScript one ~12 MB).
pub const DEFAULT_UPLOAD_LIMIT: usize = 64 << 20;

/// A multipart error as an API error: over the body limit is 413 with the limit.
fn multipart_error(state: &AppState, err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::UploadTooLarge {
            limit: state.config().plugin_upload_limit,
        };
    }
    ApiError::bad_request("bad_multipart", err.body_text())
}

fn registry(state: &AppState) -> ApiResult<&std::sync::Arc<PluginRegistry>> {
    state
        .plugins()
        .ok_or_else(|| ApiError::Unavailable("plugins are not enabled on this server".into()))
}

fn registry_error(err: RegistryError) -> ApiError {
    let (code, problems) = match err {
        RegistryError::NotFound(name) => return ApiError::not_found(format!("plugin `{name}`")),
        RegistryError::Manifest(problems) => ("invalid_manifest", problems),
        RegistryError::Component(problem) => ("invalid_component", vec![problem]),
        RegistryError::Capabilities(problem) => ("invalid_capabilities", vec![problem]),
        RegistryError::Storage(problem) | RegistryError::Engine(problem) => {
            return ApiError::Internal(problem);
        }
    };
    ApiError::Unprocessable {
        code,
        message: format!("{}: {}", code.replace('_', " "), problems.join("; ")),
        diagnostics: problems
            .into_iter()
            .map(|p| ApiDiagnostic::error(code, p))
            .collect(),
    }
}

/// The parts of a plugin upload.
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "describes the multipart body for the OpenAPI document"
)]
pub struct PluginUpload {
    /// The WebAssembly component (`.wasm`).
    #[schema(value_type = String, format = Binary)]
    pub component: Vec<u8>,
    /// The manifest JSON: `name`, `version`, `description`, `input_schema`,
    /// `output_schema`, `capabilities`, `limits`.
    pub manifest: String,
}

/// Uploads a plugin version (`multipart/form-data`: `component` and `manifest`).
#[utoipa::path(post, path = "/api/v1/plugins", tag = "plugins",
    request_body(content = PluginUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "The plugin", body = crate::api::wire::PluginDoc),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    request: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Scope::PluginsAdmin)?;
    let registry = registry(&state)?.clone();
    let limit = state.config().plugin_upload_limit;
    if declared_length(&request).is_some_and(|length| length > limit as u64) {
        drain(request.into_body()).await;
        return Err(ApiError::UploadTooLarge { limit });
    }
    let mut form = Multipart::from_request(request, &state)
        .await
        .map_err(|e| ApiError::bad_request("bad_multipart", e.body_text()))?;
    let (mut component, mut manifest) = (None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(&state, e))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| multipart_error(&state, e))?;
        match name.as_str() {
            "component" => component = Some(bytes),
            "manifest" => manifest = Some(bytes),
            _ => {}
        }
    }
    let (Some(component), Some(manifest)) = (component, manifest) else {
        return Err(ApiError::bad_request(
            "bad_multipart",
            "the upload needs the parts `component` (the .wasm) and `manifest` (JSON)",
        ));
    };
    let manifest = String::from_utf8(manifest.to_vec())
        .map_err(|_| ApiError::bad_request("invalid_utf8", "the manifest is not UTF-8"))?;
    let ws = principal.workspace_id.clone();
    let info = registry
        .upload(&ws, manifest, component.to_vec(), &principal.actor())
        .await
        .map_err(registry_error)?;
    Ok((StatusCode::CREATED, Json(json!(info))))
}

/// The body's `Content-Length`, when the client declared one.
fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// How much of an oversized upload is read and thrown away before the 413 is sent.
const DRAIN_LIMIT: u64 = 256 << 20;
/// How long an oversized upload is read before the 413 is sent regardless.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads and discards an upload that is over the limit (bounded in bytes and time), so
/// that the client, still sending, gets the 413 instead of a broken connection: an HTTP/1
/// client such as curl or reqwest reports the write error, not the answer, when the server
/// closes with the body half sent.
async fn drain(mut body: Body) {
    let read_all = async {
        let mut seen = 0u64;
        while seen < DRAIN_LIMIT {
            let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx));
            match frame.await {
                Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len() as u64),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, read_all).await;
}

/// The workspace's plugins, by name (they have no time order); the cursor is the name of
/// the last plugin of the previous page.
#[utoipa::path(get, path = "/api/v1/plugins", tag = "plugins", params(PageQuery),
    responses((status = 200, description = "The plugins", body = crate::api::wire::PluginPage),
        (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
        (status = 503, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Value>> {
    principal.require(Scope::PluginsAdmin)?;
    let limit = pagination::limit(query.limit)?;
    let mut items = registry(&state)?.list(&principal.workspace_id);
    items.sort_by(|a, b| a.name.cmp(&b.name));
    let page = pagination::paginate(items, |p| p.name.clone(), limit, query.cursor.as_deref())?;
    Ok(Json(json!(page)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantsBody {
    pub capabilities: Vec<String>,
}

/// Replaces what an admin grants the plugin (all its versions).
#[utoipa::path(post, path = "/api/v1/plugins/{name}/grants", tag = "plugins", request_body = GrantsBody,
    params(("name" = String, Path, description = "The plugin's name")),
    responses((status = 200, description = "The plugin", body = crate::api::wire::PluginDoc),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn grants(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<GrantsBody>,
) -> ApiResult<Json<Value>> {
    principal.require(Scope::PluginsAdmin)?;
    let info = registry(&state)?
        .grant(
            &principal.workspace_id,
            &name,
            &body.capabilities,
            &principal.actor(),
        )
        .await
        .map_err(registry_error)?;
    Ok(Json(json!(info)))
}
