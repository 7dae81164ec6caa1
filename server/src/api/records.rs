//! The built-in CRM record store (`/records/{object}[/{id}]`). Writes are validated
//! against the schema (422 for a wrong type or a value outside a picklist) and raise their
//! events (`case.created`, `case.updated`, `case.priority_changed`, ...), which trigger
//! automations in the same transaction.
//!
//! A record answers flat: `{"id", "object", <fields>..., "created_at", "updated_at"}`; writes
//! take the fields flat too (`id` optional on create).

use std::collections::BTreeMap;

use automations_compiler::typed::Type;
use automations_runtime::NewRecord;
use automations_runtime::model::Record;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::pagination::{self, Page};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A record as the API answers it, serialised straight from the record (no copy of its
/// fields): `{"id", "object", <fields>..., "created_at", "updated_at"}`.
pub struct RecordView<'a>(pub &'a Record);

impl serde::Serialize for RecordView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        const OWN: [&str; 4] = ["id", "object", "created_at", "updated_at"];
        if OWN.iter().any(|k| r.fields.contains_key(*k)) {
            // A field named like one of the record's own keys: the map decides, as ever.
            return record_json(r).serialize(serializer);
        }
        let mut map = serializer.serialize_map(Some(r.fields.len() + 4))?;
        map.serialize_entry("id", &r.id)?;
        map.serialize_entry("object", &r.object)?;
        for (k, v) in &r.fields {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("created_at", &r.created_at)?;
        map.serialize_entry("updated_at", &r.updated_at)?;
        map.end()
    }
}

pub fn record_json(r: &Record) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id));
    m.insert("object".into(), json!(r.object));
    for (k, v) in &r.fields {
        m.insert(k.clone(), v.clone());
    }
    m.insert("created_at".into(), json!(r.created_at));
    m.insert("updated_at".into(), json!(r.updated_at));
    Value::Object(m)
}

pub(crate) fn object_body(body: Value) -> ApiResult<Map<String, Value>> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::bad_request(
            "invalid_body",
            "a record must be a JSON object of fields",
        )),
    }
}

/// List records of an object by id; other query parameters filter by field equality
/// (`?priority=critical`).
#[utoipa::path(get, path = "/api/v1/records/{object}", tag = "records",
    params(crate::api::wire::ObjectPath, ("limit" = Option<u32>, Query, description = "default 50, at most 500"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page")),
    responses((status = 200, description = "A page of records", body = crate::api::wire::RecordPage), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(object): ApiPath<String>,
    ApiQuery(mut query): ApiQuery<BTreeMap<String, String>>,
) -> ApiResult<Json<Page<Value>>> {
    principal.require_read(Scope::RecordsRead, Scope::RecordsWrite)?;
    let limit_text = query.remove("limit");
    let limit = match limit_text {
        None => pagination::limit(None)?,
        Some(t) => {
            pagination::limit(Some(t.parse().map_err(|_| {
                ApiError::bad_request("invalid_query", "limit must be a number")
            })?))?
        }
    };
    let cursor = query.remove("cursor");
    let schema = state.definitions().schema_view(&principal.workspace_id);
    if !schema.has_object(&object) {
        return Err(ApiError::not_found("object"));
    }
    let mut equals = Map::new();
    for (field, text) in query {
        let ty = schema.field_type(&object, &field).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_query",
                format!("unknown field `{field}` on {object}"),
            )
        })?;
        equals.insert(field.clone(), filter_value(&ty, &field, &text)?);
    }
    let page = state
        .engine()
        .query_records(
            &principal.workspace_id,
            &object,
            &equals,
            limit,
            cursor.as_deref(),
        )
        .await
        .map_err(super::runs::bad_cursor)?;
    Ok(Json(page_json(page)))
}

fn page_json(page: automations_runtime::model::Page<Record>) -> Page<Value> {
    Page {
        items: page.items.iter().map(record_json).collect(),
        next_cursor: page.next_cursor,
    }
}

/// A query string value read as the field's type.
fn filter_value(ty: &Type, field: &str, text: &str) -> ApiResult<Value> {
    let bad = || ApiError::bad_request("invalid_query", format!("`{field}` cannot be `{text}`"));
    Ok(match ty {
        Type::Number => json!(text.parse::<f64>().map_err(|_| bad())?),
        Type::Bool => json!(text.parse::<bool>().map_err(|_| bad())?),
        _ if text == "null" => Value::Null,
        _ => json!(text),
    })
}

/// Create a record; its `*.created` event triggers automations. (`POST
/// /records/{object}:batch` arrives here too and goes to `records_batch`.)
#[utoipa::path(post, path = "/api/v1/records/{object}", tag = "records", params(crate::api::wire::ObjectPath),
    request_body(content = Object, description = "The fields, flat; `id` optional"),
    responses((status = 201, description = "The record", body = crate::api::wire::RecordDoc), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(object): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    if let Some(object) = object.strip_suffix(":batch") {
        return super::records_batch::create_batch(state, principal, object.to_string(), body)
            .await
            .map(IntoResponse::into_response);
    }
    principal.require(Scope::RecordsWrite)?;
    let record = new_record(object_body(body)?)?;
    // An id that exists already is the write's own 409 (checked in its transaction).
    let record = state
        .engine()
        .create_record(&principal.workspace_id, &object, record)
        .await?;
    Ok((StatusCode::CREATED, Json(RecordView(&record))).into_response())
}

/// The record a create body asks for: its fields and, when given, a valid `id`.
pub(crate) fn new_record(mut fields: Map<String, Value>) -> ApiResult<NewRecord> {
    let id = match fields.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if valid_id(&id) => Some(id),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "invalid_fields",
                "`id` must be a non-empty string of letters, digits, `_`, `-`, `.` or `:`",
                vec![
                    crate::error::ApiDiagnostic::error("invalid_field", "bad id").at_pointer("/id"),
                ],
            ));
        }
    };
    Ok(NewRecord { id, fields })
}

/// Client-chosen ids stay printable and short.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// One record.
#[utoipa::path(get, path = "/api/v1/records/{object}/{id}", tag = "records", params(crate::api::wire::RecordPath),
    responses((status = 200, description = "The record", body = crate::api::wire::RecordDoc), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    principal.require_read(Scope::RecordsRead, Scope::RecordsWrite)?;
    let record = state
        .engine()
        .record(&principal.workspace_id, &object, &id)
        .await?;
    Ok(Json(record_json(&record)))
}

/// Change some fields (`null` clears one); raises `*.updated` and `*.<field>_changed`.
#[utoipa::path(patch, path = "/api/v1/records/{object}/{id}", tag = "records", params(crate::api::wire::RecordPath),
    request_body(content = Object, description = "The fields to change, flat"),
    responses((status = 200, description = "The record", body = crate::api::wire::RecordDoc), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((object, id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    principal.require(Scope::RecordsWrite)?;
    let mut fields = object_body(body)?;
    // Echoing the id back in a PATCH is harmless; changing it is not allowed.
    if let Some(v) = fields.get("id")
        && v.as_str() == Some(id.as_str())
    {
        fields.remove("id");
    }
    let record = state
        .engine()
        .update_record(&principal.workspace_id, &object, &id, fields)
        .await?;
    Ok(Json(record_json(&record)))
}

/// Delete a record; raises `*.deleted`. 204.
#[utoipa::path(delete, path = "/api/v1/records/{object}/{id}", tag = "records", params(crate::api::wire::RecordPath),
    responses((status = 204, description = "Deleted"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((object, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    principal.require(Scope::RecordsWrite)?;
    state
        .engine()
        .delete_record(&principal.workspace_id, &object, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
