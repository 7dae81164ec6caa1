//! Output caps of step params (DESIGN §13: rendered template output is capped).
//!
//! A param is evaluated against its cap before the step does anything: templates stop
//! rendering as soon as the cap is passed (`CompiledExpr::eval_value_within`), and a step
//! whose params pass a cap fails with an error naming the cap, before any effect is
//! applied, queued or stored; its run record keeps no input. So one record write can
//! never make the engine render, store or send more than the caps allow.

use automations_compiler::catalog::ActionKind;

/// Byte caps on the evaluated params of a step (measured as JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputCaps {
    /// A text param: a message, subject, title, recipient, ... (`serve
    /// --max-text-param-bytes`).
    pub text_param_bytes: usize,
    /// A payload param: a webhook `body` or `headers`, an email `body`, a plugin `input`,
    /// record `fields` / `value` (`serve --max-payload-param-bytes`).
    pub payload_param_bytes: usize,
    /// All params of one step together (`serve --max-step-param-bytes`).
    pub step_param_bytes: usize,
}

impl Default for OutputCaps {
    fn default() -> Self {
        OutputCaps {
            text_param_bytes: 64 << 10,
            payload_param_bytes: 1 << 20,
            step_param_bytes: 2 << 20,
        }
    }
}

/// Params that carry a payload rather than a line of text, by (action, param).
const PAYLOAD_PARAMS: [(ActionKind, &str); 9] = [
    (ActionKind::Webhook, "body"),
    (ActionKind::Webhook, "headers"),
    (ActionKind::SendEmail, "body"),
    (ActionKind::Plugin, "input"),
    (ActionKind::UpdateField, "value"),
    (ActionKind::UpdateField, "fields"),
    (ActionKind::UpdateRecord, "fields"),
    (ActionKind::CreateRecord, "fields"),
    (ActionKind::CreateTask, "description"),
];

/// Which cap a param gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CapKind {
    Text,
    Payload,
}

impl CapKind {
    pub(crate) fn of(action: ActionKind, param: &str) -> CapKind {
        if PAYLOAD_PARAMS
            .iter()
            .any(|(a, p)| *a == action && *p == param)
        {
            CapKind::Payload
        } else {
            CapKind::Text
        }
    }

    /// The cap in bytes and the `serve` flag that sets it.
    pub(crate) fn limit(self, caps: &OutputCaps) -> (usize, &'static str) {
        match self {
            CapKind::Text => (caps.text_param_bytes, "--max-text-param-bytes"),
            CapKind::Payload => (caps.payload_param_bytes, "--max-payload-param-bytes"),
        }
    }
}

/// A step whose params passed a cap; `Display` is the step's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CapExceeded {
    #[error(
        "param `{param}` is larger than {limit} bytes once rendered (the {flag} cap); \
         nothing was sent or stored"
    )]
    Param {
        param: String,
        limit: usize,
        flag: &'static str,
    },
    #[error(
        "the params of this step are larger than {limit} bytes once rendered (the \
         --max-step-param-bytes cap); nothing was sent or stored"
    )]
    Step { limit: usize },
}
