//! Loading a workspace's custom schema file (`--schema FILE`, `POST /api/v1/schema`).
//!
//! Shape, the same as what `Schema` serializes to:
//!
//! ```json
//! {"objects": {
//!    "case": {"fields": {
//!        "sla_hours": {"type": "number"},
//!        "tier": {"type": "picklist", "values": ["a", "b"]},
//!        "partner_id": {"type": "reference", "object": "account"},
//!        "legacy_code": {"type": "string", "deprecated": true}}},
//!    "invoice": {"fields": {"total": {"type": "number"}}}}}
//! ```
//!
//! Types: `string`, `number`, `bool`, `datetime`, `duration`, `picklist` (with `values`),
//! `reference` (with `object`). Fields are added to built-in objects; new objects get
//! `id`, `created_at` and `updated_at` like built-in ones. A built-in field may be marked
//! deprecated by repeating it with the same type and `"deprecated": true`; changing the
//! type of an existing field is an error. Never silently drops anything it does not know.

use thiserror::Error;

use super::{FieldDef, FieldType, ObjectDef, Schema};

#[derive(Debug, Error, PartialEq)]
pub enum SchemaError {
    #[error("invalid schema JSON: {0}")]
    Json(String),
    #[error("`{object}.{field}` is already a {existing} field and cannot be redefined")]
    Conflict {
        object: String,
        field: String,
        existing: String,
    },
    #[error("`{object}.{field}` references unknown object `{target}`")]
    UnknownReference {
        object: String,
        field: String,
        target: String,
    },
    #[error("`{0}` is not a valid object or field name (letters, digits and `_`)")]
    BadName(String),
    #[error("picklist `{object}.{field}` has no values")]
    EmptyPicklist { object: String, field: String },
}

pub(super) fn extend(schema: &mut Schema, text: &str) -> Result<(), SchemaError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        objects: std::collections::BTreeMap<String, ObjectIn>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ObjectIn {
        #[serde(default)]
        fields: std::collections::BTreeMap<String, FieldDef>,
    }
    let file: File = serde_json::from_str(text).map_err(|e| SchemaError::Json(e.to_string()))?;
    for (object, def) in file.objects {
        check_name(&object)?;
        let target = schema
            .objects
            .entry(object.clone())
            .or_insert_with(new_object);
        for (field, fdef) in def.fields {
            check_name(&field)?;
            if let FieldType::Picklist { values } = &fdef.ty
                && values.is_empty()
            {
                return Err(SchemaError::EmptyPicklist { object, field });
            }
            if let Some(existing) = target.fields.get(&field)
                && existing.ty != fdef.ty
            {
                return Err(SchemaError::Conflict {
                    object,
                    field,
                    existing: type_name(&existing.ty).into(),
                });
            }
            target.fields.insert(field, fdef);
        }
    }
    check_references(schema)
}

fn new_object() -> ObjectDef {
    let mut def = ObjectDef::default();
    def.fields
        .insert("id".into(), FieldDef::new(FieldType::String));
    def.fields
        .insert("created_at".into(), FieldDef::new(FieldType::DateTime));
    def.fields
        .insert("updated_at".into(), FieldDef::new(FieldType::DateTime));
    def
}

fn check_name(name: &str) -> Result<(), SchemaError> {
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(SchemaError::BadName(name.to_string()))
    }
}

fn check_references(schema: &Schema) -> Result<(), SchemaError> {
    for (object, def) in &schema.objects {
        for (field, fdef) in &def.fields {
            if let FieldType::Reference { object: target } = &fdef.ty
                && !schema.objects.contains_key(target)
            {
                return Err(SchemaError::UnknownReference {
                    object: object.clone(),
                    field: field.clone(),
                    target: target.clone(),
                });
            }
        }
    }
    Ok(())
}

fn type_name(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::String => "string",
        FieldType::Number => "number",
        FieldType::Bool => "bool",
        FieldType::DateTime => "datetime",
        FieldType::Duration => "duration",
        FieldType::Picklist { .. } => "picklist",
        FieldType::Reference { .. } => "reference",
    }
}
