//! The view of the CRM schema the runtime needs: which objects exist and the type of each
//! field, to validate record writes. The compiler's `Schema` implements it (see
//! `compiler_glue`); [`SimpleSchema`] is a plain table for tests and tools.
//!
//! Each workspace has its own schema (the built-in one plus its custom fields): the engine
//! asks [`WorkspaceSchemas`] for the view of the workspace it works for, never a global one.
//!
//! Never decides anything about conditions: that is the compiler's job.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use automations_compiler::typed::Type;

pub trait SchemaView: Send + Sync {
    fn has_object(&self, object: &str) -> bool;
    /// The type of `object.field`, `None` when the field does not exist. `id`,
    /// `created_at` and `updated_at` exist on every object.
    fn field_type(&self, object: &str, field: &str) -> Option<Type>;
}

/// Where the engine finds the schema of each workspace.
pub trait WorkspaceSchemas: Send + Sync {
    /// The schema of workspace `ws` (the built-in one when it has no custom fields).
    fn view(&self, ws: &str) -> Arc<dyn SchemaView>;
}

/// One schema for every workspace (offline tools, tests).
pub struct SameSchema(pub Arc<dyn SchemaView>);

impl SameSchema {
    pub fn shared(view: Arc<dyn SchemaView>) -> Arc<dyn WorkspaceSchemas> {
        Arc::new(SameSchema(view))
    }
}

impl WorkspaceSchemas for SameSchema {
    fn view(&self, _ws: &str) -> Arc<dyn SchemaView> {
        self.0.clone()
    }
}

/// A schema given as a table: object -> field -> type.
#[derive(Debug, Clone, Default)]
pub struct SimpleSchema {
    pub objects: HashMap<String, BTreeMap<String, Type>>,
}

impl SimpleSchema {
    pub fn with_object(mut self, object: &str, fields: &[(&str, Type)]) -> Self {
        let map = fields
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect();
        self.objects.insert(object.to_string(), map);
        self
    }
}

impl SchemaView for SimpleSchema {
    fn has_object(&self, object: &str) -> bool {
        self.objects.contains_key(object)
    }
    fn field_type(&self, object: &str, field: &str) -> Option<Type> {
        match field {
            "id" => Some(Type::String),
            "created_at" | "updated_at" => Some(Type::DateTime),
            _ => self.objects.get(object)?.get(field).cloned(),
        }
    }
}
