//! The catalog of built-in actions (DESIGN §3.3): each action's params with their types and
//! whether they are required, and the shape of its output (`steps.<id>.output`).
//!
//! Outputs are exactly what the runtime's actions produce (runtime/src/engine/actions.rs):
//! record writes -> `id` and `applied`; `create_record` / `create_task` -> `id`;
//! `assign_to_queue` -> `queue_id`, `applied`; `notify_user` -> `notification_id`;
//! `send_email`, `send_notification` and `webhook` -> `outbox_id` only, because delivery
//! is asynchronous (DESIGN §12.1: a step completes once its effect is in the outbox, so no
//! HTTP status exists when later steps run); `wait` -> `until`, `waited`; `human_task` ->
//! its form fields plus `timed_out` (set when the task timed out and the run continued);
//! `plugin` -> any field (typed `Any` until plugin manifests carry a schema). Change both
//! sides together. The catalog is data only: checking params against it is `steps`' job.

use serde::Serialize;

/// What a param accepts.
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
    DateTime,
    /// Any value (webhook body, `update_field.value`, which is checked against the field).
    Any,
    /// A constant string naming a field of the triggering record (`update_field.field`).
    FieldName,
    /// A constant string naming a schema object (`create_record.object`).
    ObjectName,
    /// An object literal of `field: value` for the target object.
    Fields,
    /// An object literal of any values (headers, plugin input).
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
    pub ty: ParamType,
    pub required: bool,
    /// Allowed values for [`ParamType::Choice`].
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub choices: &'static [&'static str],
}

/// The type of a fixed output field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputType {
    String,
    Bool,
    DateTime,
}

/// One fixed output field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutputField {
    pub name: &'static str,
    pub ty: OutputType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputSpec {
    None,
    /// `id` of the created record.
    Id,
    /// These fields, always.
    Fields(&'static [OutputField]),
    /// The fields of the `form` param.
    Form,
    /// Unknown shape: every field is `Any`.
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ActionSpec {
    pub name: &'static str,
    pub params: &'static [ParamSpec],
    /// Groups of params of which at least one must be given (`wait`: duration or until).
    pub one_of: &'static [&'static [&'static str]],
    pub output: OutputSpec,
}

const fn p(name: &'static str, ty: ParamType, required: bool) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required,
        choices: &[],
    }
}

const fn choice(name: &'static str, required: bool, choices: &'static [&'static str]) -> ParamSpec {
    ParamSpec {
        name,
        ty: ParamType::Choice,
        required,
        choices,
    }
}

use ParamType as T;

const fn out(name: &'static str, ty: OutputType) -> OutputField {
    OutputField { name, ty }
}

/// `id` of the written record and whether the write was applied (false in dry-run).
const WRITE: &[OutputField] = &[
    out("id", OutputType::String),
    out("applied", OutputType::Bool),
];
/// The outbox row holding the message; delivery happens after the step.
const OUTBOX: &[OutputField] = &[out("outbox_id", OutputType::String)];

static CATALOG: &[ActionSpec] = &[
    ActionSpec {
        name: "update_field",
        params: &[
            p("field", T::FieldName, false),
            p("value", T::Any, false),
            p("fields", T::Fields, false),
        ],
        one_of: &[&["field", "fields"]],
        output: OutputSpec::Fields(WRITE),
    },
    ActionSpec {
        name: "update_record",
        params: &[
            p("object", T::ObjectName, true),
            p("id", T::String, true),
            p("fields", T::Fields, true),
        ],
        one_of: &[],
        output: OutputSpec::Fields(WRITE),
    },
    ActionSpec {
        name: "create_record",
        params: &[
            p("object", T::ObjectName, true),
            p("fields", T::Fields, true),
        ],
        one_of: &[],
        output: OutputSpec::Id,
    },
    ActionSpec {
        name: "create_task",
        params: &[
            p("subject", T::String, true),
            p("assignee", T::String, false),
            p("due", T::DateTime, false),
            p("description", T::String, false),
        ],
        one_of: &[],
        output: OutputSpec::Id,
    },
    ActionSpec {
        name: "assign_to_queue",
        params: &[p("queue_id", T::String, true)],
        one_of: &[],
        output: OutputSpec::Fields(&[
            out("queue_id", OutputType::String),
            out("applied", OutputType::Bool),
        ]),
    },
    ActionSpec {
        name: "send_email",
        params: &[
            p("to", T::Recipients, true),
            p("subject", T::String, true),
            p("body", T::String, true),
            p("cc", T::Recipients, false),
        ],
        one_of: &[],
        output: OutputSpec::Fields(OUTBOX),
    },
    ActionSpec {
        name: "notify_user",
        params: &[p("user_id", T::String, true), p("message", T::String, true)],
        one_of: &[],
        output: OutputSpec::Fields(&[out("notification_id", OutputType::String)]),
    },
    ActionSpec {
        name: "send_notification",
        params: &[
            choice("channel", true, &["slack", "email", "in_app"]),
            p("message", T::String, true),
            p("target", T::String, false),
        ],
        one_of: &[],
        output: OutputSpec::Fields(OUTBOX),
    },
    ActionSpec {
        name: "webhook",
        params: &[
            p("url", T::String, true),
            choice("method", false, &["GET", "POST", "PUT", "PATCH", "DELETE"]),
            p("headers", T::Map, false),
            p("body", T::Any, false),
            p("secret", T::String, false),
        ],
        one_of: &[],
        output: OutputSpec::Fields(OUTBOX),
    },
    ActionSpec {
        name: "human_task",
        params: &[
            p("title", T::String, true),
            p("assignee", T::String, false),
            p("queue", T::String, false),
            p("form", T::Form, false),
            p("timeout", T::Duration, false),
            p("on_timeout", T::String, false),
        ],
        one_of: &[&["assignee", "queue"]],
        output: OutputSpec::Form,
    },
    ActionSpec {
        name: "wait",
        params: &[
            p("duration", T::Duration, false),
            p("until", T::DateTime, false),
        ],
        one_of: &[&["duration", "until"]],
        output: OutputSpec::Fields(&[
            out("until", OutputType::DateTime),
            out("waited", OutputType::Bool),
        ]),
    },
    ActionSpec {
        name: "plugin",
        params: &[
            p("plugin", T::String, true),
            p("version", T::String, false),
            p("input", T::Any, false),
        ],
        one_of: &[],
        output: OutputSpec::Any,
    },
];

/// Every built-in action, in the order of DESIGN §3.3.
pub fn catalog() -> &'static [ActionSpec] {
    CATALOG
}

pub fn action(name: &str) -> Option<&'static ActionSpec> {
    CATALOG.iter().find(|a| a.name == name)
}

impl ActionSpec {
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Form field type names (`{ approved: bool }`).
pub const FORM_TYPES: [&str; 5] = ["bool", "string", "number", "datetime", "duration"];
