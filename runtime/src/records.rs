//! Record writes as data: field validation against the schema and the events a write
//! raises (DESIGN §5: `<object>.created`, `.updated`, `.<field>_changed`, `.deleted`, each
//! with `previous` values).
//!
//! Pure functions only; the engine applies them inside the write's transaction so that a
//! record and its events commit together.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use automations_compiler::typed::Type;

use crate::error::{FieldError, Result, RuntimeError};
use crate::model::{CausationLink, Event, Record, new_id};
use crate::schema::SchemaView;

/// Fields the store manages itself; writes to them are refused.
pub const RESERVED_FIELDS: [&str; 3] = ["id", "created_at", "updated_at"];

/// Checks every field of a write; collects all problems instead of stopping at the first.
pub fn validate_fields(
    schema: &dyn SchemaView,
    object: &str,
    fields: &Map<String, Value>,
) -> Result<()> {
    if !schema.has_object(object) {
        return Err(RuntimeError::not_found("object", object));
    }
    let mut errors = Vec::new();
    for (name, value) in fields {
        if RESERVED_FIELDS.contains(&name.as_str()) {
            errors.push(FieldError {
                field: name.clone(),
                message: "is managed by the store and cannot be written".into(),
            });
            continue;
        }
        match schema.field_type(object, name) {
            None => errors.push(FieldError {
                field: name.clone(),
                message: format!("unknown field on {object}"),
            }),
            Some(ty) => {
                if let Err(message) = check_value(&ty, value) {
                    errors.push(FieldError {
                        field: name.clone(),
                        message,
                    });
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RuntimeError::Validation(errors))
    }
}

/// Whether a JSON value fits a field type; `null` fits every type (it clears the field).
pub fn check_value(ty: &Type, value: &Value) -> std::result::Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    let ok = match ty {
        Type::Null => false,
        Type::Any => true,
        Type::Bool => value.is_boolean(),
        Type::Number => value.is_number(),
        Type::String | Type::Reference(_) => value.is_string(),
        Type::Picklist(values) => {
            return match value.as_str() {
                Some(s) if values.iter().any(|v| v == s) => Ok(()),
                Some(s) => Err(format!("{s:?} is not one of {}", values.join(", "))),
                None => Err(format!("expected one of {}", values.join(", "))),
            };
        }
        Type::DateTime => value
            .as_str()
            .is_some_and(|s| DateTime::parse_from_rfc3339(s).is_ok()),
        Type::Duration => {
            value
                .as_str()
                .is_some_and(|s| crate::expr::parse_duration(s).is_some())
                || value.is_number()
        }
        Type::List(inner) => {
            return match value.as_array() {
                Some(items) => items.iter().try_for_each(|v| check_value(inner, v)),
                None => Err(format!("expected {}", ty.display_name())),
            };
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected {}, got {}",
            ty.display_name(),
            json_kind(value)
        ))
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Where a write comes from: the API (no cause) or a run (the chain grows by one link).
#[derive(Debug, Clone, Default)]
pub struct Cause {
    pub chain: Vec<CausationLink>,
}

fn record_event(
    record: &Record,
    event_type: String,
    payload: Arc<Value>,
    cause: &Cause,
    at: DateTime<Utc>,
) -> Event {
    Event {
        workspace_id: record.workspace_id.clone(),
        id: new_id("evt"),
        event_type,
        object: Some(record.object.clone()),
        record_id: Some(record.id.clone()),
        payload,
        causation: cause.chain.clone(),
        created_at: at,
    }
}

/// A record event's payload: the record, what it was before, and the changed fields.
/// Built as a map the values move into: `json!` would serialise each of them into a
/// copy (a deep clone of both records, freed at once).
fn record_payload(record: &Record, previous: Value, changed: &[String]) -> Arc<Value> {
    let mut payload = Map::with_capacity(3);
    payload.insert("record".into(), Value::Object(record.to_json()));
    payload.insert("previous".into(), previous);
    let changed = changed.iter().cloned().map(Value::String).collect();
    payload.insert("changed".into(), Value::Array(changed));
    Arc::new(Value::Object(payload))
}

/// Events of a create: `<object>.created`.
pub fn created_events(record: &Record, cause: &Cause) -> Vec<Event> {
    let changed: Vec<String> = record.fields.keys().cloned().collect();
    vec![record_event(
        record,
        format!("{}.created", record.object),
        record_payload(record, Value::Null, &changed),
        cause,
        record.updated_at,
    )]
}

/// Events of an update: `<object>.updated` then `<object>.<field>_changed` per changed
/// field; nothing when no value changed (so idempotent writes cannot loop). They all carry
/// the same payload, built once (`before` moves into it).
pub fn updated_events(before: Record, after: &Record, cause: &Cause) -> Vec<Event> {
    let changed = changed_fields(&before.fields, &after.fields);
    if changed.is_empty() {
        return Vec::new();
    }
    let payload = record_payload(after, Value::Object(before.into_json()), &changed);
    let mut out = Vec::with_capacity(changed.len() + 1);
    for f in &changed {
        out.push(record_event(
            after,
            format!("{}.{f}_changed", after.object),
            payload.clone(),
            cause,
            after.updated_at,
        ));
    }
    out.insert(
        0,
        record_event(
            after,
            format!("{}.updated", after.object),
            payload,
            cause,
            after.updated_at,
        ),
    );
    out
}

/// Events of a delete: `<object>.deleted` carrying the last values as both record and previous.
pub fn deleted_events(before: &Record, cause: &Cause, at: DateTime<Utc>) -> Vec<Event> {
    vec![record_event(
        before,
        format!("{}.deleted", before.object),
        record_payload(before, Value::Object(before.to_json()), &[]),
        cause,
        at,
    )]
}

/// Fields whose value differs (a missing field equals `null`), in a stable order.
pub fn changed_fields(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k).unwrap_or(&Value::Null) != after.get(*k).unwrap_or(&Value::Null))
        .cloned()
        .collect()
}

/// Applies a patch: `null` removes a field.
pub fn apply_patch(fields: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        if v.is_null() {
            fields.remove(k);
        } else {
            fields.insert(k.clone(), v.clone());
        }
    }
}

/// A new record with a fresh id (or the one the caller asked for).
pub fn new_record(
    ws: &str,
    object: &str,
    id: Option<String>,
    mut fields: Map<String, Value>,
    at: DateTime<Utc>,
) -> Record {
    fields.retain(|_, v| !v.is_null());
    Record {
        workspace_id: ws.to_string(),
        object: object.to_string(),
        id: id.unwrap_or_else(|| new_id(&object_prefix(object))),
        fields,
        created_at: at,
        updated_at: at,
    }
}

fn object_prefix(object: &str) -> String {
    object
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect::<String>()
        .to_lowercase()
}
