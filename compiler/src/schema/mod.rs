//! The CRM schema the checker resolves paths against: objects, their fields and types,
//! picklist values, references between objects, and the events each object raises.
//!
//! [`Schema::builtin`] is DESIGN §4.1; [`Schema::from_json_str`] adds a workspace's custom
//! fields and objects (see `custom` for the file shape). The same JSON shape is what
//! `Schema` serializes to (`GET /api/v1/schema`). This module must never read files or do
//! I/O: callers pass text.

mod builtin;
mod custom;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::typed::Type;

pub use custom::SchemaError;

/// All objects by name. Serializes as `{"objects": {"case": {"fields": {...}}}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    pub objects: BTreeMap<String, ObjectDef>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectDef {
    pub fields: BTreeMap<String, FieldDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    #[serde(flatten)]
    pub ty: FieldType,
    /// Still readable, but authors are warned (W0306).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
}

impl FieldDef {
    pub fn new(ty: FieldType) -> FieldDef {
        FieldDef {
            ty,
            deprecated: false,
        }
    }
}

/// The declared type of a field: `{"type": "picklist", "values": [...]}` and so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    String,
    Number,
    Bool,
    #[serde(rename = "datetime")]
    DateTime,
    Duration,
    Picklist {
        values: Vec<String>,
    },
    /// An id of a record of `object`; followed by the path without `_id`.
    Reference {
        object: String,
    },
}

impl FieldType {
    /// The type expressions over this field get.
    pub fn to_type(&self) -> Type {
        match self {
            FieldType::String => Type::String,
            FieldType::Number => Type::Number,
            FieldType::Bool => Type::Bool,
            FieldType::DateTime => Type::DateTime,
            FieldType::Duration => Type::Duration,
            FieldType::Picklist { values } => Type::Picklist(values.clone().into()),
            FieldType::Reference { object } => Type::Reference(object.clone()),
        }
    }
}

/// What kind of change an event reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum EventKind {
    Created,
    Updated,
    Deleted,
    /// `<object>.<field>_changed`, holding the field name.
    FieldChanged(String),
    /// `custom.<name>`, holding the name.
    Custom(String),
}

/// Why an event name does not resolve, with the closest valid event name when one is near.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventError {
    /// `<object>` is not in the schema (E0102).
    UnknownObject {
        object: String,
        suggestion: Option<String>,
    },
    /// The object exists but the event does not (E0103).
    UnknownEvent { suggestion: Option<String> },
}

impl Schema {
    /// DESIGN §4.1.
    pub fn builtin() -> Schema {
        builtin::builtin()
    }

    /// The built-in schema extended by a custom schema file (shape documented in `custom`).
    pub fn from_json_str(text: &str) -> Result<Schema, SchemaError> {
        let mut schema = Schema::builtin();
        schema.extend_from_json_str(text)?;
        Ok(schema)
    }

    /// Adds the fields and objects of a custom schema file to this schema.
    pub fn extend_from_json_str(&mut self, text: &str) -> Result<(), SchemaError> {
        custom::extend(self, text)
    }

    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.objects.get(name)
    }

    pub fn field(&self, object: &str, field: &str) -> Option<&FieldDef> {
        self.objects.get(object)?.fields.get(field)
    }

    pub fn object_names(&self) -> impl Iterator<Item = &str> {
        self.objects.keys().map(String::as_str)
    }

    /// The schema as JSON (the `GET /api/v1/schema` body).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Every event `object` raises: created, updated, deleted, then `<field>_changed`.
    pub fn events_for(&self, object: &str) -> Vec<String> {
        let Some(def) = self.objects.get(object) else {
            return Vec::new();
        };
        let mut out: Vec<String> = ["created", "updated", "deleted"]
            .iter()
            .map(|k| format!("{object}.{k}"))
            .collect();
        out.extend(def.fields.keys().map(|f| format!("{object}.{f}_changed")));
        out
    }

    /// Resolves an event name to its object (none for `custom.*`) and kind.
    pub fn parse_event(&self, event: &str) -> Result<(Option<String>, EventKind), EventError> {
        let Some((object, kind)) = event.split_once('.') else {
            return Err(EventError::UnknownEvent {
                suggestion: self.closest_event(event),
            });
        };
        if object == "custom" {
            return if is_event_name(kind) {
                Ok((None, EventKind::Custom(kind.to_string())))
            } else {
                Err(EventError::UnknownEvent { suggestion: None })
            };
        }
        let Some(def) = self.objects.get(object) else {
            return Err(EventError::UnknownObject {
                object: object.to_string(),
                suggestion: self.closest_event(event),
            });
        };
        let parsed = match kind {
            "created" => Some(EventKind::Created),
            "updated" => Some(EventKind::Updated),
            "deleted" => Some(EventKind::Deleted),
            other => other
                .strip_suffix("_changed")
                .filter(|f| def.fields.contains_key(*f))
                .map(|f| EventKind::FieldChanged(f.to_string())),
        };
        match parsed {
            Some(k) => Ok((Some(object.to_string()), k)),
            None => Err(EventError::UnknownEvent {
                suggestion: crate::suggest::closest(
                    event,
                    self.events_for(object).iter().map(String::as_str),
                ),
            }),
        }
    }

    fn closest_event(&self, event: &str) -> Option<String> {
        let all: Vec<String> = self
            .object_names()
            .flat_map(|o| self.events_for(o))
            .collect();
        crate::suggest::closest(event, all.iter().map(String::as_str))
    }
}

fn is_event_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}
