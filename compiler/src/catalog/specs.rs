//! One [`ActionSpec`] per [`ActionKind`], in the order of DESIGN §3.3. The match in
//! [`spec`] is exhaustive: a new action does not compile until it has its entry here.

use super::EffectKind as E;
use super::{
    ActionKind, ActionSpec, OutputField, OutputSpec, OutputType, ParamSpec, ParamType as T,
    RecordTarget, Writes, WrittenFields,
};

const fn p(name: &'static str, ty: T, required: bool, description: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        ty,
        required,
        description,
        choices: &[],
        value_of_field: None,
    }
}

const fn choice(
    name: &'static str,
    required: bool,
    choices: &'static [&'static str],
    description: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        ty: T::Choice,
        required,
        description,
        choices,
        value_of_field: None,
    }
}

const fn out(name: &'static str, ty: OutputType) -> OutputField {
    OutputField { name, ty }
}

/// `id` of the written record and whether the write was applied (false in dry-run).
const WRITE: OutputSpec = OutputSpec::Fields {
    fields: &[
        out("id", OutputType::String),
        out("applied", OutputType::Bool),
    ],
};
/// The outbox row holding the message; delivery happens after the step.
const OUTBOX: OutputSpec = OutputSpec::Fields {
    fields: &[out("outbox_id", OutputType::String)],
};

static UPDATE_FIELD: ActionSpec = ActionSpec {
    kind: ActionKind::UpdateField,
    name: "update_field",
    description: "Sets fields of the triggering record.",
    params: &[
        p("field", T::FieldName, false, "The field to set."),
        ParamSpec {
            value_of_field: Some("field"),
            ..p("value", T::Any, false, "The value, of the field's type.")
        },
        p(
            "fields",
            T::Fields,
            false,
            "Several fields at once: `{ field: value, ... }`.",
        ),
    ],
    one_of: &[&["field", "fields"]],
    requires: &[("field", "value")],
    output: WRITE,
    effects: &[E::RecordUpdate],
    writes: Writes::Update {
        target: RecordTarget::Trigger,
        fields: WrittenFields::NamedOrMap {
            field: "field",
            map: "fields",
        },
    },
};

static UPDATE_RECORD: ActionSpec = ActionSpec {
    kind: ActionKind::UpdateRecord,
    name: "update_record",
    description: "Sets fields of any record.",
    params: &[
        p("object", T::ObjectName, true, "The record's object."),
        p("id", T::String, true, "The record's id."),
        p("fields", T::Fields, true, "`{ field: value, ... }`."),
    ],
    one_of: &[],
    requires: &[],
    output: WRITE,
    effects: &[E::RecordUpdate],
    writes: Writes::Update {
        target: RecordTarget::ObjectParam("object"),
        fields: WrittenFields::MapParam("fields"),
    },
};

static CREATE_RECORD: ActionSpec = ActionSpec {
    kind: ActionKind::CreateRecord,
    name: "create_record",
    description: "Creates a record of any object.",
    params: &[
        p(
            "object",
            T::ObjectName,
            true,
            "The object of the new record.",
        ),
        p("fields", T::Fields, true, "`{ field: value, ... }`."),
    ],
    one_of: &[],
    requires: &[],
    output: OutputSpec::Id,
    effects: &[E::RecordCreate],
    writes: Writes::Create {
        target: RecordTarget::ObjectParam("object"),
    },
};

static CREATE_TASK: ActionSpec = ActionSpec {
    kind: ActionKind::CreateTask,
    name: "create_task",
    description: "Creates a CRM task record about the triggering record.",
    params: &[
        p("subject", T::String, true, "What is to be done."),
        p("assignee", T::String, false, "The user id the task is for."),
        p("due", T::DateTime, false, "When it is due."),
        p("description", T::String, false, "More detail."),
    ],
    one_of: &[],
    requires: &[],
    output: OutputSpec::Id,
    effects: &[E::RecordCreate],
    writes: Writes::Create {
        target: RecordTarget::Object("task"),
    },
};

static ASSIGN_TO_QUEUE: ActionSpec = ActionSpec {
    kind: ActionKind::AssignToQueue,
    name: "assign_to_queue",
    description: "Sets the owner queue (`queue_id`) of the triggering record.",
    params: &[p("queue_id", T::String, true, "The queue's id.")],
    one_of: &[],
    requires: &[],
    output: OutputSpec::Fields {
        fields: &[
            out("queue_id", OutputType::String),
            out("applied", OutputType::Bool),
        ],
    },
    effects: &[E::RecordUpdate],
    writes: Writes::Update {
        target: RecordTarget::Trigger,
        fields: WrittenFields::Fixed(&["queue_id"]),
    },
};

static SEND_EMAIL: ActionSpec = ActionSpec {
    kind: ActionKind::SendEmail,
    name: "send_email",
    description: "Sends an email through the outbox (SMTP when configured).",
    params: &[
        p(
            "to",
            T::Recipients,
            true,
            "An address or a list of addresses.",
        ),
        p("subject", T::String, true, "The subject line."),
        p("body", T::String, true, "The text body."),
        p("cc", T::Recipients, false, "Copies."),
    ],
    one_of: &[],
    requires: &[],
    output: OUTBOX,
    effects: &[E::Email],
    writes: Writes::Nothing,
};

static NOTIFY_USER: ActionSpec = ActionSpec {
    kind: ActionKind::NotifyUser,
    name: "notify_user",
    description: "Stores an in-app notification for a user (GET /api/v1/notifications).",
    params: &[
        p("user_id", T::String, true, "The user to notify."),
        p("message", T::String, true, "The text."),
    ],
    one_of: &[],
    requires: &[],
    output: OutputSpec::Fields {
        fields: &[out("notification_id", OutputType::String)],
    },
    effects: &[E::Notification],
    writes: Writes::Nothing,
};

static SEND_NOTIFICATION: ActionSpec = ActionSpec {
    kind: ActionKind::SendNotification,
    name: "send_notification",
    description: "Sends a message to Slack, by email, or as an in-app notification.",
    params: &[
        choice(
            "channel",
            true,
            &["slack", "email", "in_app"],
            "Where the message goes.",
        ),
        p("message", T::String, true, "The text."),
        p(
            "target",
            T::String,
            false,
            "The Slack channel, the email address, or the user id (in_app).",
        ),
    ],
    one_of: &[],
    requires: &[],
    output: OUTBOX,
    effects: &[E::Slack, E::Email, E::Notification],
    writes: Writes::Nothing,
};

static WEBHOOK: ActionSpec = ActionSpec {
    kind: ActionKind::Webhook,
    name: "webhook",
    description: "Calls an HTTP endpoint through the outbox, signed when a secret is given.",
    params: &[
        p("url", T::String, true, "The endpoint."),
        choice(
            "method",
            false,
            &["GET", "POST", "PUT", "PATCH", "DELETE"],
            "The HTTP method (POST by default).",
        ),
        p("headers", T::Map, false, "Extra request headers."),
        p("body", T::Any, false, "The JSON body."),
        p(
            "secret",
            T::String,
            false,
            "`whsec_` + base64 key: signs the request (Standard Webhooks).",
        ),
    ],
    one_of: &[],
    requires: &[],
    output: OUTBOX,
    effects: &[E::Webhook],
    writes: Writes::Nothing,
};

static HUMAN_TASK: ActionSpec = ActionSpec {
    kind: ActionKind::HumanTask,
    name: "human_task",
    description: "Parks the run until a person completes a task form.",
    params: &[
        p("title", T::String, true, "What the person is asked."),
        p("assignee", T::String, false, "The user id the task is for."),
        p("queue", T::String, false, "The queue the task is for."),
        p(
            "form",
            T::Form,
            false,
            "The answers asked for: `{ name: type }`.",
        ),
        p(
            "timeout",
            T::Duration,
            false,
            "How long to wait for the answer.",
        ),
        p(
            "on_timeout",
            T::String,
            false,
            "`fail` (default), `continue` or `escalate`.",
        ),
    ],
    one_of: &[&["assignee", "queue"]],
    requires: &[],
    output: OutputSpec::Form,
    effects: &[E::HumanTask],
    writes: Writes::Nothing,
};

static WAIT: ActionSpec = ActionSpec {
    kind: ActionKind::Wait,
    name: "wait",
    description: "Parks the run on a durable timer.",
    params: &[
        p("duration", T::Duration, false, "How long to wait."),
        p("until", T::DateTime, false, "When to continue."),
    ],
    one_of: &[&["duration", "until"]],
    requires: &[],
    output: OutputSpec::Fields {
        fields: &[
            out("until", OutputType::DateTime),
            out("waited", OutputType::Bool),
        ],
    },
    effects: &[],
    writes: Writes::Nothing,
};

static PLUGIN: ActionSpec = ActionSpec {
    kind: ActionKind::Plugin,
    name: "plugin",
    description: "Runs an uploaded WebAssembly plugin.",
    params: &[
        p("plugin", T::String, true, "The plugin's name."),
        p(
            "version",
            T::String,
            false,
            "A version; the highest one by default.",
        ),
        p(
            "input",
            T::Any,
            false,
            "The plugin's input (checked against its manifest).",
        ),
    ],
    one_of: &[],
    requires: &[],
    output: OutputSpec::Any,
    // What the plugin host turns host calls into (records, email, notify).
    effects: &[
        E::RecordUpdate,
        E::RecordCreate,
        E::Notification,
        E::Email,
        E::Slack,
    ],
    writes: Writes::Unknown,
};

pub(super) fn spec(kind: ActionKind) -> &'static ActionSpec {
    match kind {
        ActionKind::UpdateField => &UPDATE_FIELD,
        ActionKind::UpdateRecord => &UPDATE_RECORD,
        ActionKind::CreateRecord => &CREATE_RECORD,
        ActionKind::CreateTask => &CREATE_TASK,
        ActionKind::AssignToQueue => &ASSIGN_TO_QUEUE,
        ActionKind::SendEmail => &SEND_EMAIL,
        ActionKind::NotifyUser => &NOTIFY_USER,
        ActionKind::SendNotification => &SEND_NOTIFICATION,
        ActionKind::Webhook => &WEBHOOK,
        ActionKind::HumanTask => &HUMAN_TASK,
        ActionKind::Wait => &WAIT,
        ActionKind::Plugin => &PLUGIN,
    }
}
