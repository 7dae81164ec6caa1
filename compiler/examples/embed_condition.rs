//! Offline condition linting and evaluation with the compiler as a library: a schema
//! (the built-in CRM objects plus a custom field), conditions compiled once, each record
//! converted once per condition and evaluated from those slots, related records read
//! from an export through a resolver, an explanation of each answer, and diagnostics
//! rendered as the CLI renders them.
//!
//! `cargo run -p automations-compiler --example embed_condition`

use std::collections::HashMap;

use automations_compiler::eval::Resolver;
use automations_compiler::pipeline::{Condition, ConditionCompiler, ConditionInput};
use automations_compiler::render::{FileDiagnostics, RenderConfig, render_human};
use automations_compiler::schema::Schema;
use serde_json::json;

fn main() {
    // The built-in CRM schema, extended by a workspace's custom field.
    let mut schema = Schema::builtin();
    schema
        .extend_from_json_str(
            r#"{"objects": {"case": {"fields": {"sla_hours": {"type": "number"}}}}}"#,
        )
        .expect("a valid custom schema");
    // One compiler shares the schema with every condition it compiles.
    let compiler = ConditionCompiler::new(schema);

    let texts = [
        r#"priority in ["high", "critical"] and sla_hours < 8"#,
        r#"changed(status, to: "escalated") or subject contains "outage""#,
        // Reads the related account (through `account_id`).
        r#"account.tier in ["gold", "platinum"] and status != "closed""#,
        // Two mistakes: a picklist value that does not exist and a misspelt field.
        r#"priority == "urgent" and subjet contains "VPN""#,
    ];
    let mut conditions: Vec<(&str, Condition)> = Vec::new();
    for text in texts {
        match compiler.compile(text, "case") {
            Ok(condition) => {
                lint_report(text, condition.warnings());
                conditions.push((text, condition));
            }
            Err(diagnostics) => lint_report(text, &diagnostics),
        }
    }

    let records = [
        json!({"id": "c1", "priority": "critical", "sla_hours": 4, "status": "open",
               "subject": "Mail outage in Zurich", "account_id": "a1"}),
        json!({"id": "c2", "priority": "low", "sla_hours": 48, "status": "escalated",
               "subject": "Printer jam", "account_id": "a2"}),
        json!({"id": "c3", "priority": "high", "sla_hours": 24, "status": "new",
               "subject": "VPN slow"}),
    ];
    let previous = json!({"status": "open"});
    let accounts = Export(HashMap::from([
        ("a1".to_string(), json!({"id": "a1", "tier": "gold"})),
        ("a2".to_string(), json!({"id": "a2", "tier": "bronze"})),
    ]));
    let mut slots = Default::default();
    for record in &records {
        let input = ConditionInput::record(record, 0)
            .with_previous(&previous)
            .with_resolver(&accounts);
        for (text, condition) in &conditions {
            // The fields the condition reads, converted once; the same allocation is
            // reused from record to record.
            condition.fill_into(&input, &mut slots);
            let holds = condition.eval_slots(&slots);
            println!("{} | {text} -> {holds}", record["id"]);
            // Why it holds or not: the deciding clause and the values it saw.
            println!("    {}", condition.explain_slots(&slots));
        }
    }
}

/// Accounts exported alongside the cases, looked up by id.
struct Export(HashMap<String, serde_json::Value>);

impl Resolver for Export {
    fn related(&self, object: &str, id: &str) -> Option<serde_json::Value> {
        (object == "account")
            .then(|| self.0.get(id).cloned())
            .flatten()
    }
}

/// Prints diagnostics (errors or warnings) with the source snippet, as `automations lint`.
fn lint_report(text: &str, diagnostics: &[automations_compiler::diagnostic::Diagnostic]) {
    if diagnostics.is_empty() {
        return;
    }
    let files = [FileDiagnostics {
        file: "<condition>",
        source: text,
        diagnostics,
    }];
    print!("{}", render_human(&files, RenderConfig::default()));
}
