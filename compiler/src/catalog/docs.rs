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
    for spec in catalog() {
        action(&mut out, spec);
    }
    out
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
