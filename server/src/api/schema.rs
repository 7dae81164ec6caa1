//! The CRM schema definitions and conditions are checked against: `GET /schema`, and
//! custom fields and objects (`POST /schema`, `POST /schema/{object}/fields`).
//!
//! Custom fields belong to the caller's workspace (no other workspace sees them) and are
//! stored in the database; a field's type cannot change once defined (409).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use compiler_schema::SchemaError;
use serde_json::{Map, Value, json};

use super::extract::{ApiJson, ApiPath};
use crate::auth::{Principal, Scope};
use crate::definitions::SchemaChangeError;
use crate::error::{ApiDiagnostic, ApiError, ApiResult};
use crate::state::AppState;

use automations_compiler::schema as compiler_schema;
use automations_compiler::{catalog, codes};

/// The caller's workspace schema (built-in plus its custom fields):
/// `{"objects": {"case": {"fields": {"priority": {"type": "picklist", ...}}}}}`, with each
/// object's `events`, the workspace's `custom_events` and the action catalog (`actions`),
/// which the web UI builds its trigger picker and action forms from.
#[utoipa::path(get, path = "/api/v1/schema", tag = "schema", responses((status = 200, description = "The schema, events and actions", body = crate::api::wire::SchemaDoc)))]
pub async fn get_schema(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    let ws = &principal.workspace_id;
    let schema = state.definitions().schema(ws);
    let events: Map<String, Value> = schema
        .object_names()
        .map(|object| (object.to_string(), json!(schema.events_for(object))))
        .collect();
    let mut body = schema.to_json();
    if let Value::Object(map) = &mut body {
        map.insert("events".into(), Value::Object(events));
        let custom = state.engine().custom_events(ws).await?;
        map.insert("custom_events".into(), json!(custom));
        map.insert("actions".into(), catalog::actions_json());
    }
    Ok(Json(body))
}

/// Add custom objects and fields to the caller's workspace, in the schema's own shape.
/// Needs `admin`.
#[utoipa::path(post, path = "/api/v1/schema", tag = "schema",
    request_body(content = Object, description = r#"{"objects": {"case": {"fields": {"sla_hours": {"type": "number"}}}}}"#),
    responses((status = 200, description = "The whole schema", body = crate::api::wire::SchemaDoc), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn extend(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    principal.require(Scope::Admin)?;
    let schema = state
        .definitions()
        .extend(
            state.engine().store(),
            &principal.workspace_id,
            &body,
            &principal.actor(),
        )
        .await
        .map_err(schema_error)?;
    Ok(Json(schema))
}

/// Add one custom field: `{"name": "sla_hours", "type": "number"}` (picklists add
/// `values`, references `object`). 201 with the field.
#[utoipa::path(post, path = "/api/v1/schema/{object}/fields", tag = "schema", params(crate::api::wire::ObjectPath),
    request_body(content = Object, description = r#"{"name": "tier", "type": "picklist", "values": ["a", "b"]}"#),
    responses((status = 201, description = "The field", body = crate::api::wire::AddedFieldDoc), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_field(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(object): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    principal.require(Scope::Admin)?;
    let Value::Object(mut field) = body else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "a field must be a JSON object",
        ));
    };
    let Some(Value::String(name)) = field.remove("name") else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`name` (a string) is required",
        ));
    };
    let mut fields = Map::new();
    fields.insert(name.clone(), Value::Object(field.clone()));
    let extension = json!({"objects": {object.clone(): {"fields": fields}}});
    state
        .definitions()
        .extend(
            state.engine().store(),
            &principal.workspace_id,
            &extension,
            &principal.actor(),
        )
        .await
        .map_err(schema_error)?;
    let mut answer = field;
    answer.insert("name".into(), json!(name));
    answer.insert("object".into(), json!(object));
    Ok((StatusCode::CREATED, Json(Value::Object(answer))))
}

fn schema_error(err: SchemaChangeError) -> ApiError {
    match err {
        SchemaChangeError::Invalid(SchemaError::Conflict { .. }) => {
            ApiError::Conflict(err.to_string())
        }
        SchemaChangeError::Invalid(e) => {
            let message = e.to_string();
            ApiError::unprocessable(
                "invalid_schema",
                message.clone(),
                vec![ApiDiagnostic::error(codes::INVALID_VALUE, message)],
            )
        }
        SchemaChangeError::Store(e) => e.into(),
        SchemaChangeError::Io(e) => ApiError::internal(e),
    }
}
