//! `POST /automations/apply`: several creates, updates and archives in one transaction, all
//! or none (what `automations apply DIR` sends). Every definition is checked against the
//! workspace's schema and plugins first; any error refuses the whole set with every
//! diagnostic, each noted with the change it belongs to.

use axum::Json;

use super::automations::{keep_secrets, plugin_catalog};
use super::extract::{ApiJson, BodyFormat, TextOrJson};
use super::wire::{AppliedDoc, AppliedSetDoc, ApplyChangeDoc, ApplyDoc};
use crate::auth::{Principal, Scope};
use crate::error::{ApiDiagnostic, ApiError, ApiResult};
use crate::state::AppState;
use automations_runtime::engine::AutomationChange;

/// At most this many changes in one request.
pub const MAX_CHANGES: usize = 500;

/// Applies the changes in order; answers `{"items": [...]}`, one per change.
#[utoipa::path(post, path = "/api/v1/automations/apply", tag = "automations",
    request_body(content = crate::api::wire::ApplyDoc, description = "The changes, applied together or not at all"),
    responses((status = 200, description = "What each change did", body = crate::api::wire::AppliedSetDoc),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn apply(
    axum::extract::State(state): axum::extract::State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ApplyDoc>,
) -> ApiResult<Json<AppliedSetDoc>> {
    principal.require(Scope::AutomationsWrite)?;
    if body.changes.len() > MAX_CHANGES {
        return Err(ApiError::bad_request(
            "too_many_changes",
            format!(
                "{} changes in one request; at most {MAX_CHANGES}",
                body.changes.len()
            ),
        ));
    }
    let mut changes = Vec::with_capacity(body.changes.len());
    let mut invalid: Vec<ApiDiagnostic> = Vec::new();
    let mut refused = 0;
    for (index, change) in body.changes.into_iter().enumerate() {
        match prepare(&state, &principal, index, change).await {
            Ok(change) => changes.push(change),
            Err(ApiError::Unprocessable { diagnostics, .. }) => {
                refused += 1;
                invalid.extend(diagnostics.into_iter().map(|mut d| {
                    d.notes.insert(0, format!("in change {index}"));
                    d
                }));
            }
            Err(other) => return Err(other),
        }
    }
    if refused > 0 {
        return Err(ApiError::unprocessable(
            "invalid_definition",
            format!(
                "{refused} of {} changes are invalid; nothing was applied",
                changes.len() + refused
            ),
            invalid,
        ));
    }
    let applied = state
        .engine()
        .apply_changes(&principal.workspace_id, changes, &principal.actor())
        .await?;
    let items = applied
        .into_iter()
        .map(|done| AppliedDoc {
            op: done.op.to_string(),
            id: done.automation.id,
            name: done.automation.name,
            version: done.automation.current_version,
            status: done.automation.status.as_str().to_string(),
        })
        .collect();
    Ok(Json(AppliedSetDoc { items }))
}

/// What a change's `op` can be (its 400 lists them; the OpenAPI document's enum is this).
pub(crate) const OPS: [&str; 3] = ["create", "update", "archive"];

/// Checks one change and gives it the secrets its placeholders stand for.
async fn prepare(
    state: &AppState,
    principal: &Principal,
    index: usize,
    change: ApplyChangeDoc,
) -> ApiResult<AutomationChange> {
    let ws = &principal.workspace_id;
    let id = change.id.clone();
    let expected = change.version;
    match change.op.as_str() {
        "archive" => Ok(AutomationChange::Archive {
            id: required_id(index, id)?,
            expected,
        }),
        "create" | "update" => {
            let body = definition_body(index, &change)?;
            let accepted = state
                .definitions()
                .read(ws, &body, plugin_catalog(state, principal))
                .await?;
            let mut definition = accepted.definition;
            if change.op == "create" {
                keep_secrets(&mut definition, None)?;
                return Ok(AutomationChange::Create { definition });
            }
            let id = required_id(index, id)?;
            let stored = state.engine().automation_definition(ws, &id).await?;
            keep_secrets(&mut definition, Some(&stored.definition))?;
            Ok(AutomationChange::Update {
                id,
                // Secrets were taken from `stored`: the write must replace that version.
                expected: Some(expected.unwrap_or(stored.version)),
                definition,
            })
        }
        other => Err(ApiError::bad_request(
            "bad_change",
            format!(
                "change {index}: op `{other}` is not one of {}",
                OPS.join(", ")
            ),
        )),
    }
}

fn required_id(index: usize, id: Option<String>) -> ApiResult<String> {
    id.ok_or_else(|| {
        ApiError::bad_request("bad_change", format!("change {index}: `id` is required"))
    })
}

fn definition_body(index: usize, change: &ApplyChangeDoc) -> ApiResult<TextOrJson> {
    match (&change.dsl, &change.definition) {
        (Some(text), None) => Ok(TextOrJson {
            text: text.clone(),
            format: BodyFormat::Dsl,
        }),
        (None, Some(definition)) => Ok(TextOrJson {
            text: definition.to_string(),
            format: BodyFormat::Json,
        }),
        _ => Err(ApiError::bad_request(
            "bad_change",
            format!("change {index}: give the definition as `dsl` or as `definition`, once"),
        )),
    }
}
