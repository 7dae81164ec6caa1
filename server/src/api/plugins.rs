//! `GET/POST /plugins` and `POST /plugins/{name}/grants` (DESIGN §8, §12.1): uploads are
//! `multipart/form-data` with the parts `component` (the .wasm) and `manifest` (JSON).
//! Scope `plugins:admin`. Handlers never run guest code; they validate and precompile.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiPath};
use crate::auth::{Principal, Scope};
use crate::error::{ApiDiagnostic, ApiError, ApiResult};
use crate::plugins::{PluginRegistry, RegistryError};
use crate::state::AppState;

/// The body limit of an upload (components are larger than JSON bodies).
pub const UPLOAD_LIMIT: usize = 16 << 20;

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
        RegistryError::Storage(problem) => return ApiError::Internal(problem),
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

/// Uploads a plugin version.
pub async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    mut form: Multipart,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Scope::PluginsAdmin)?;
    let registry = registry(&state)?.clone();
    let (mut component, mut manifest) = (None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request("bad_multipart", e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request("bad_multipart", e.body_text()))?;
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
        .upload(&ws, manifest, component.to_vec())
        .await
        .map_err(registry_error)?;
    Ok((StatusCode::CREATED, Json(json!(info))))
}

/// The workspace's plugins, by name.
pub async fn list(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Value>> {
    principal.require(Scope::PluginsAdmin)?;
    let items = registry(&state)?.list(&principal.workspace_id);
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantsBody {
    pub capabilities: Vec<String>,
}

/// Replaces what an admin grants the plugin (all its versions).
pub async fn grants(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<GrantsBody>,
) -> ApiResult<Json<Value>> {
    principal.require(Scope::PluginsAdmin)?;
    let info = registry(&state)?
        .grant(&principal.workspace_id, &name, &body.capabilities)
        .await
        .map_err(registry_error)?;
    Ok(Json(json!(info)))
}
