//! The one catalog of built-in actions (DESIGN §3.3): for every [`ActionKind`] its params
//! with their types, the shape of its output (`steps.<id>.output`), the effect kinds it may
//! record and the records it writes.
//!
//! Everything that needs to know about an action reads it here: the checker (params and
//! outputs), the JSON front end and printer (durations, forms), the runtime executor (an
//! exhaustive `match` on [`ActionKind`]), the cycle analysis (from [`Writes`]), the server's
//! plugin host (the `task` record of `create_task`, [`task_record`]), `GET /api/v1/schema`
//! ([`actions_json`]) and `docs/actions.md` ([`markdown`]). Adding an action is one
//! [`ActionKind`] variant plus its [`ActionSpec`] in `specs`; every exhaustive match that
//! must handle it then fails to compile until it does.
//!
//! Outputs are exactly what the runtime's actions produce: record writes -> `id` and
//! `applied`; `create_record` / `create_task` -> `id`; `assign_to_queue` -> `queue_id`,
//! `applied`; `notify_user` -> `notification_id`; `send_email`, `send_notification` and
//! `webhook` -> `outbox_id` only, because delivery is asynchronous (DESIGN §12.1: a step
//! completes once its effect is in the outbox); `wait` -> `until`, `waited`; `human_task` ->
//! its form fields plus `timed_out`; `plugin` -> any field.

mod docs;
mod effects;
mod specs;
mod task;

use serde::{Deserialize, Serialize};

pub use docs::markdown;
pub use effects::EffectKind;
pub use task::{TaskRecord, task_record};

/// Every built-in action. Serialised as its name (`update_field`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    UpdateField,
    UpdateRecord,
    CreateRecord,
    CreateTask,
    AssignToQueue,
    SendEmail,
    NotifyUser,
    SendNotification,
    Webhook,
    HumanTask,
    Wait,
    Plugin,
}

impl ActionKind {
    /// Every action, in the order of DESIGN §3.3 (the catalog order).
    pub const ALL: [ActionKind; 12] = [
        ActionKind::UpdateField,
        ActionKind::UpdateRecord,
        ActionKind::CreateRecord,
        ActionKind::CreateTask,
        ActionKind::AssignToQueue,
        ActionKind::SendEmail,
        ActionKind::NotifyUser,
        ActionKind::SendNotification,
        ActionKind::Webhook,
        ActionKind::HumanTask,
        ActionKind::Wait,
        ActionKind::Plugin,
    ];

    /// The action's spec (params, output, effects, writes).
    pub fn spec(self) -> &'static ActionSpec {
        specs::spec(self)
    }

    /// The name definitions use (`"type"` in JSON, the call name in the DSL).
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    pub fn parse(name: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        ActionKind::ALL.into_iter().map(ActionKind::as_str)
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a param accepts (the `type` of `GET /api/v1/schema`'s params).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// A string (templates, picklists and references too).
    String,
    Bool,
    Number,
    /// A duration, or a string literal like `"2d"`.
    Duration,
    /// A datetime, or an RFC 3339 string literal.
    #[serde(rename = "datetime")]
    DateTime,
    /// Any value (webhook body, `update_field.value`, which is checked against the field).
    Any,
    /// A constant string naming a field of the written record (`update_field.field`).
    FieldName,
    /// A constant string naming a schema object (`create_record.object`).
    ObjectName,
    /// An object literal of `field: value` for the written record's object.
    Fields,
    /// An object literal of any values (headers).
    Map,
    /// A human task form: `{ name: type }`.
    Form,
    /// A string or a list of strings (email recipients).
    Recipients,
    /// One of `choices` (a constant string).
    Choice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ParamSpec {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub ty: ParamType,
    pub required: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'static str,
    /// Allowed values for [`ParamType::Choice`].
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub choices: &'static [&'static str],
    /// The value is checked against the type of the field named by this other param
    /// (`update_field.value` against `field`).
    #[serde(skip)]
    pub value_of_field: Option<&'static str>,
}

/// The type of a fixed output field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputType {
    String,
    Bool,
    #[serde(rename = "datetime")]
    DateTime,
}

/// One fixed output field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutputField {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub ty: OutputType,
}

/// The shape of `steps.<id>.output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutputSpec {
    None,
    /// `id` of the created record (a reference to the created object when it is known).
    Id,
    /// These fields, always.
    Fields {
        fields: &'static [OutputField],
    },
    /// The fields of the `form` param (plus `timed_out`).
    Form,
    /// Unknown shape: every field is `Any`.
    Any,
}

/// Which record an action writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordTarget {
    /// The triggering record.
    Trigger,
    /// A record of the object named by this param (a constant string).
    ObjectParam(&'static str),
    /// A record of this object.
    Object(&'static str),
}

/// Which fields an update writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrittenFields {
    /// These fields.
    Fixed(&'static [&'static str]),
    /// The keys of the object literal in this param.
    MapParam(&'static str),
    /// The field named by `field` (a constant), or else the keys of the `map` param.
    NamedOrMap {
        field: &'static str,
        map: &'static str,
    },
}

/// The record writes of an action (what the cycle analysis follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Writes no record.
    Nothing,
    Update {
        target: RecordTarget,
        fields: WrittenFields,
    },
    Create {
        target: RecordTarget,
    },
    /// Not known statically (plugins).
    Unknown,
}

impl Writes {
    /// The record the action writes, when it writes one known statically.
    pub fn target(self) -> Option<RecordTarget> {
        match self {
            Writes::Update { target, .. } | Writes::Create { target } => Some(target),
            Writes::Nothing | Writes::Unknown => None,
        }
    }
}

/// Everything the project knows about one built-in action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActionSpec {
    #[serde(skip)]
    pub kind: ActionKind,
    pub name: &'static str,
    pub description: &'static str,
    pub params: &'static [ParamSpec],
    /// Groups of params of which at least one must be given (`wait`: duration or until).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub one_of: &'static [&'static [&'static str]],
    /// `(a, b)`: when `a` is given, `b` is needed too (`update_field`: field -> value).
    #[serde(skip)]
    pub requires: &'static [(&'static str, &'static str)],
    pub output: OutputSpec,
    /// The effect kinds its steps may record (`effects[].kind` of a run's steps).
    pub effects: &'static [EffectKind],
    #[serde(skip)]
    pub writes: Writes,
}

impl ActionSpec {
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Every built-in action's spec, in catalog order.
pub fn catalog() -> impl Iterator<Item = &'static ActionSpec> {
    ActionKind::ALL.into_iter().map(ActionKind::spec)
}

/// The spec of the action named `name`, if it is a built-in one.
pub fn action(name: &str) -> Option<&'static ActionSpec> {
    ActionKind::parse(name).map(ActionKind::spec)
}

/// The type of param `param` of action `action`, when both are known.
pub fn param_type(action: &str, param: &str) -> Option<ParamType> {
    Some(self::action(action)?.param(param)?.ty)
}

/// The `actions` list of `GET /api/v1/schema`: one object per action, in catalog order.
pub fn actions_json() -> serde_json::Value {
    serde_json::to_value(catalog().collect::<Vec<_>>()).unwrap_or_default()
}

/// Form field type names (`{ approved: bool }`).
pub const FORM_TYPES: [&str; 5] = ["bool", "string", "number", "datetime", "duration"];
