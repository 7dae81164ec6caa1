//! `POST /automations/format`: one definition in both canonical forms, so that a client
//! (the web UI's DSL tab) shows the compiler's `.auto` text for a JSON definition and reads
//! edited text back as JSON. Nothing is stored; the body is JSON or `text/plain` DSL.

use axum::Json;
use serde_json::{Value, json};

use super::extract::TextOrJson;
use crate::auth::{Principal, Scope};
use crate::definitions;
use crate::error::ApiResult;

/// The canonical `.auto` text and API JSON of a definition (JSON, or DSL as text/plain).
/// Only syntax and shape are checked; `validate` reports names and types. Text that
/// cannot be read answers `dsl` and `definition` null with the diagnostics. The builder's
/// `layout` goes through the DSL's `layout { ... }` both ways.
#[utoipa::path(post, path = "/api/v1/automations/format", tag = "automations",
    request_body(content = Object, description = "A definition (JSON, or DSL as text/plain)"),
    responses((status = 200, description = "`dsl`, `definition` and the diagnostics", body = crate::api::wire::FormattedDoc),
        (status = 400, body = crate::error::ErrorBody)))]
pub async fn format(principal: Principal, body: TextOrJson) -> ApiResult<Json<Value>> {
    principal.require_read(Scope::AutomationsRead, Scope::AutomationsWrite)?;
    // Untrusted text: read where a failure is contained, like every definition check.
    let formatted = crate::contain::contained(move || definitions::format(&body)).await?;
    Ok(Json(json!({
        "dsl": formatted.dsl,
        "definition": formatted.definition,
        "diagnostics": formatted.diagnostics,
    })))
}
