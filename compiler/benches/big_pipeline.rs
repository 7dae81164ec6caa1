//! Wall time of what `automations lint` and `POST /api/v1/automations/validate` run on
//! each generated condition of `test_data/big/conditions.txt` (issue 21's acceptance):
//! `compile_source` of a `.auto` file holding the condition, and of the API's JSON
//! definition holding it. Prints one line per case: the best of 3 runs of each, in ms,
//! and the diagnostic codes. A report, not a test: nothing is asserted.
//!
//! `cargo bench -p automations-compiler --bench big_pipeline`

use std::time::Instant;

use automations_compiler::pipeline::{SourceFile, compile_source};
use automations_compiler::schema::Schema;

fn generate(count: usize, joiner: &str, clause: &str) -> String {
    let items = (0..count).map(|i| clause.replace("{i}", &i.to_string()));
    if joiner == "nest" {
        return format!("{}{clause}{}", "(".repeat(count), ")".repeat(count));
    }
    if let Some(field) = joiner.strip_prefix("in:") {
        return format!("{field} in [{}]", items.collect::<Vec<_>>().join(", "));
    }
    items.collect::<Vec<_>>().join(&format!(" {joiner} "))
}

/// Best of 3 wall times of `compile_source`, in ms, and the codes it reported.
fn time(src: &SourceFile, schema: &Schema) -> (f64, Vec<&'static str>) {
    let mut best = f64::MAX;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let compiled = compile_source(src, schema);
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
        codes = compiled.diagnostics.iter().map(|d| d.code).collect();
    }
    codes.sort();
    codes.dedup();
    (best, codes)
}

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/big/conditions.txt");
    let data = std::fs::read_to_string(path).expect("conditions.txt");
    let schema = Schema::builtin();
    // `big_pipeline NAME` runs the one case whose name starts with NAME (for profiling).
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    println!("{:<28} {:>10} {:>10}  codes", "case", "dsl ms", "json ms");
    for line in data
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("##"))
    {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, count, joiner, clause, _] = cols[..] else {
            continue;
        };
        if only.as_deref().is_some_and(|o| !name.starts_with(o)) {
            continue;
        }
        let condition = generate(count.parse().expect("a count"), joiner, clause);
        let dsl = format!(
            "automation \"big\" {{\n  when case.updated\n  if {condition}\n  do {{\n    \
             notify_user(user_id: \"u1\", message: \"hi\")\n  }}\n}}\n"
        );
        let json = serde_json::json!({
            "name": "big",
            "trigger": {"event": "case.updated", "conditions": condition},
            "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "hi"}}],
        })
        .to_string();
        let (dsl_ms, codes) = time(&SourceFile::new("big.auto".into(), dsl, false), &schema);
        let (json_ms, _) = time(&SourceFile::new("big.json".into(), json, true), &schema);
        println!(
            "{name:<28} {dsl_ms:>10.1} {json_ms:>10.1}  {}",
            codes.join(" ")
        );
    }
}
