//! The peers' view of a record: what every peer engine's context is built from.
//!
//! Every field of the object's schema is present (null when the record lacks it), numbers
//! are floats, datetimes are epoch milliseconds (floats), the related `account` and
//! `owner` records are nested (null when absent or dangling), and `now` is the clock.
//! Building it is part of each peer's per-event preparation cost.

use automations_compiler::schema::{FieldType, Schema};
use serde_json::{Map, Number, Value as Json};

/// RFC 3339 text to epoch milliseconds.
pub fn millis(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.timestamp_millis())
}

fn float(x: f64) -> Json {
    Number::from_f64(x).map_or(Json::Null, Json::Number)
}

/// One record of `object` as a flat JSON object of its schema fields.
fn flat(schema: &Schema, object: &str, record: &Json) -> Map<String, Json> {
    let mut out = Map::new();
    let Some(def) = schema.object(object) else {
        return out;
    };
    for (name, field) in &def.fields {
        let value = match (record.get(name), &field.ty) {
            (None | Some(Json::Null), _) => Json::Null,
            (Some(Json::String(s)), FieldType::DateTime) => {
                millis(s).map_or(Json::Null, |ms| float(ms as f64))
            }
            (Some(Json::Number(n)), _) => n.as_f64().map_or(Json::Null, float),
            (Some(other), _) => other.clone(),
        };
        out.insert(name.clone(), value);
    }
    out
}

/// The view of `record` (of `object`), related records from `related(object, id)`.
pub fn view(
    schema: &Schema,
    object: &str,
    record: &Json,
    related: impl Fn(&str, &str) -> Option<Json>,
    now_ms: i64,
) -> Json {
    let mut out = flat(schema, object, record);
    for (field, path, target) in [
        ("account_id", "account", "account"),
        ("owner_id", "owner", "user"),
    ] {
        let hop = record
            .get(field)
            .and_then(Json::as_str)
            .and_then(|id| related(target, id))
            .map_or(Json::Null, |r| Json::Object(flat(schema, target, &r)));
        out.insert(path.into(), hop);
    }
    out.insert("now".into(), float(now_ms as f64));
    Json::Object(out)
}
