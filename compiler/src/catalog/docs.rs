//! `docs/actions.md`, generated from the catalog (a test fails when the file is stale).

use std::fmt::Write;

use super::{ActionSpec, OutputSpec, ParamSpec, ParamType, catalog};

/// The reference page of every built-in action, as Markdown.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Built-in actions\n\n\
         Generated from the action catalog (`compiler/src/catalog/`); do not edit by hand.\n\
         Regenerate with `UPDATE_DOCS=1 cargo test -p automations-compiler --test it catalog`.\n\
         `GET /api/v1/schema` lists the same catalog under `actions`.\n\n\
         Every param is an expression or a template; a step's output is readable by later\n\
         steps as `steps.<id>.output.<field>`.\n",
    );
    retry_section(&mut out);
    for spec in catalog() {
        action(&mut out, spec);
    }
    out
}

/// The `retry` step option (DESIGN §6), from `crate::retry`'s bounds and classes.
fn retry_section(out: &mut String) {
    use crate::retry::*;
    let classes: Vec<String> = ErrorClass::ALL.iter().map(|c| format!("`{c}`")).collect();
    let default: Vec<String> = ErrorClass::DEFAULT
        .iter()
        .map(|c| format!("`{c}`"))
        .collect();
    let _ = write!(
        out,
        "\n## Retrying a step\n\n\
         Any action step but `human_task` and `wait` may carry a retry policy, after its guard:\n\
         `lookup = plugin(plugin: \"enrich\", input: {{}}) retry {{ attempts: 3, backoff: 2s }}` \
         in the DSL,\n`\"retry\": {{\"attempts\": 3, \"backoff\": \"2s\"}}` beside `params` in JSON.\n\n\
         | key | value | default |\n|---|---|---|\n\
         | `attempts` | attempts in all, the first included: 1 to {MAX_ATTEMPTS} | required |\n\
         | `backoff` | the wait after the first failure, doubling after each further one: \
         {MIN_BACKOFF_MS}ms to 24h | `{DEFAULT_BACKOFF_MS}ms` |\n\
         | `max_backoff` | the cap on the wait, at least `backoff` | `{DEFAULT_MAX_BACKOFF_MS}ms` |\n\
         | `on` | the error classes retried, from {} | {} |\n\n\
         `timeout`: the plugin ran past its time limit. `http`: the plugin failed after one of \
         its `http`\nrequests failed on the network or was answered 408, 429 or 5xx. \
         `conflict`: a record write\nconflicted with another. `plugin_error`: the plugin returned \
         an error of its own. Bad params,\nvalidation errors, caps, traps and exhausted limits \
         are never retried. Each wait is the\nbackoff plus up to a quarter more (jitter); the \
         run is `waiting` meanwhile (a durable timer,\nso a restart during the wait changes \
         nothing) and its step shows `attempts` and `last_error`.\nA failed attempt leaves none \
         of its writes or outbox rows behind.\n\n\
         On `send_email`, `send_notification` and `webhook` the policy governs the delivery: \
         the step\ncompletes once its message is queued, and the delivery is tried `attempts` \
         times in all with\nthe policy's backoff (in place of the outbox's 8 tries from 1 s), \
         keeping one idempotency key\n(`webhook-id`); its failures are `http` (the network, \
         a timeout, 408, 429, 5xx; `on` may name\nnothing else), and the step's `attempts` \
         and `last_error` follow its tries.\n",
        classes.join(", "),
        default.join(", "),
    );
}

fn action(out: &mut String, spec: &ActionSpec) {
    let _ = write!(out, "\n## `{}`\n\n{}\n\n", spec.name, spec.description);
    out.push_str("| param | type | required | description |\n|---|---|---|---|\n");
    for p in spec.params {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            p.name,
            type_text(p),
            if p.required { "yes" } else { "no" },
            p.description.replace('|', "\\|")
        );
    }
    for group in spec.one_of {
        let names: Vec<String> = group.iter().map(|n| format!("`{n}`")).collect();
        let _ = writeln!(out, "\nAt least one of {} is needed.", names.join(", "));
    }
    for (given, needed) in spec.requires {
        let _ = writeln!(out, "\n`{given}` needs `{needed}`.");
    }
    let _ = writeln!(out, "\nOutput: {}.", output_text(&spec.output));
    let effects: Vec<String> = spec.effects.iter().map(|e| format!("`{e}`")).collect();
    let effects = if effects.is_empty() {
        "none".to_string()
    } else {
        effects.join(", ")
    };
    let _ = writeln!(out, "\nEffects: {effects}.");
}

fn type_text(p: &ParamSpec) -> String {
    let name = serde_json::to_value(p.ty)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    if p.ty == ParamType::Choice {
        let choices: Vec<String> = p.choices.iter().map(|c| format!("`{c}`")).collect();
        format!("{name} ({})", choices.join(", "))
    } else {
        name
    }
}

fn output_text(output: &OutputSpec) -> String {
    match output {
        OutputSpec::None => "none".into(),
        OutputSpec::Id => "`id` (the created record's id)".into(),
        OutputSpec::Fields { fields } => fields
            .iter()
            .map(|f| {
                let ty = serde_json::to_value(f.ty)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                format!("`{}` ({ty})", f.name)
            })
            .collect::<Vec<_>>()
            .join(", "),
        OutputSpec::Form => "the `form` fields, plus `timed_out` (bool)".into(),
        OutputSpec::Any => "any fields (the plugin's output)".into(),
    }
}
