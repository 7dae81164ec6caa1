//! Query parameters and body fields that take one word of a fixed set, documented as an
//! `enum` (a client, or a generated one, learns the words from the schema instead of
//! the prose; a word outside the set is a 400 or 422). Where the handlers parse with a
//! list (the model's string enums, the audit kinds and actions, the scopes, the apply
//! ops) the set is that list, so the document cannot drift from it; a backtest's version
//! words are written here, beside the runtime's `VersionChoice::from_json`, and
//! `tests/it/openapi.rs` pins them.

use automations_runtime::model::{
    AutomationStatus, EnvironmentKind, OutboxKind, OutboxStatus, TaskStatus,
};
use utoipa::openapi::Schema;
use utoipa::openapi::schema::{
    Array, ArrayBuilder, Object, ObjectBuilder, OneOf, OneOfBuilder, Type,
};

fn words(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

pub fn automation_status() -> Object {
    words(AutomationStatus::ALL)
}

pub fn environment() -> Object {
    words(EnvironmentKind::ALL)
}

pub fn outbox_kind() -> Object {
    words(OutboxKind::ALL)
}

pub fn outbox_status() -> Object {
    words(OutboxStatus::ALL)
}

pub fn task_status() -> Object {
    words(TaskStatus::ALL)
}

pub fn audit_kind() -> Object {
    words(&crate::api::audit::KINDS)
}

pub fn audit_action() -> Object {
    let actions: Vec<&str> = crate::api::audit::ACTIONS
        .iter()
        .map(|a| a.as_str())
        .collect();
    words(&actions)
}

/// A new token's scopes: at least one, each a scope's name.
pub fn token_scopes() -> Array {
    ArrayBuilder::new()
        .items(words(&automations_runtime::engine::SCOPES))
        .min_items(Some(1))
        .build()
}

/// What one change of `POST /automations/apply` does.
pub fn apply_op() -> Object {
    words(&crate::api::apply::OPS)
}

/// A backtest's `version`: `"draft"`, `"sandbox"` or a version number from 1.
pub fn backtest_version() -> Schema {
    one_of(
        OneOfBuilder::new()
            .item(words(&["draft", "sandbox"]))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .build(),
    )
}

/// A definition given inline: DSL text, or the JSON form as an object.
pub fn definition_text_or_json() -> Schema {
    one_of(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .build(),
    )
}

fn one_of(schema: OneOf) -> Schema {
    Schema::OneOf(schema)
}
