//! Embedding the compiler: compile conditions once, then for each record convert its
//! fields once and evaluate every condition from those slots.
//!
//! `cargo run -p automations-compiler --example embed`

use automations_compiler::pipeline::{ConditionCompiler, ConditionInput};
use automations_compiler::schema::Schema;
use serde_json::json;

fn main() {
    let compiler = ConditionCompiler::new(Schema::builtin());
    let texts = [
        r#"priority in ["high", "critical"] and subject contains "outage""#,
        r#"changed(status) and status == "escalated""#,
        r#"priority == "urgent""#,
    ];
    let mut conditions = Vec::new();
    for text in texts {
        match compiler.compile(text, "case") {
            Ok(condition) => conditions.push((text, condition)),
            // `priority` is a picklist without `urgent`: reported, not compiled.
            Err(diagnostics) => {
                for d in diagnostics {
                    println!("{text}: {} {}", d.code, d.message);
                }
            }
        }
    }
    let records = [
        json!({"id": "c1", "priority": "critical", "subject": "Mail outage", "status": "escalated"}),
        json!({"id": "c2", "priority": "low", "subject": "Printer", "status": "new"}),
    ];
    let previous = json!({"id": "c1", "status": "new"});
    for record in &records {
        let input = ConditionInput {
            previous: Some(&previous),
            ..ConditionInput::record(record, 0)
        };
        for (text, condition) in &conditions {
            // One conversion of the record per condition, then any number of evaluations.
            let slots = condition.fill(&input);
            let holds = condition.eval_slots(&slots);
            println!("{} | {text} -> {holds}", record["id"]);
            if holds {
                println!("  because {}", condition.explain_slots(&slots));
            }
        }
    }
}
