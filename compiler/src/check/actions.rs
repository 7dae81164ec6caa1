//! The catalog of built-in actions (DESIGN §3.3): each action's params with their types and
//! whether they are required, and the shape of its output (`steps.<id>.output`).
//!
//! Outputs: `human_task` -> its form fields; `create_record` / `create_task` -> `id`;
//! `webhook` -> `status` (number) and `body` (any); `plugin` -> any field (typed `Any`
//! until plugin manifests carry a schema); every other action has no output fields.
//! The catalog is data only: checking params against it is `steps`' job.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputSpec {
    None,
    /// `id` of the created record.
    Id,
    /// `status` and `body` of the HTTP response.
    Http,
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

static CATALOG: &[ActionSpec] = &[
    ActionSpec {
        name: "update_field",
        params: &[
            p("field", T::FieldName, false),
            p("value", T::Any, false),
            p("fields", T::Fields, false),
        ],
        one_of: &[&["field", "fields"]],
        output: OutputSpec::None,
    },
    ActionSpec {
        name: "update_record",
        params: &[
            p("object", T::ObjectName, true),
            p("id", T::String, true),
            p("fields", T::Fields, true),
        ],
        one_of: &[],
        output: OutputSpec::None,
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
        output: OutputSpec::None,
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
        output: OutputSpec::None,
    },
    ActionSpec {
        name: "notify_user",
        params: &[p("user_id", T::String, true), p("message", T::String, true)],
        one_of: &[],
        output: OutputSpec::None,
    },
    ActionSpec {
        name: "send_notification",
        params: &[
            choice("channel", true, &["slack", "email", "in_app"]),
            p("message", T::String, true),
            p("target", T::String, false),
        ],
        one_of: &[],
        output: OutputSpec::None,
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
        output: OutputSpec::Http,
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
        output: OutputSpec::None,
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
