//! `automations test FILE --event FILE [--record FILE] [--mock STEP=JSON]... [--format json]`
//!
//! One dry-run of an automation, offline: a private in-memory database holds the event's
//! related records, nothing reaches the network. Prints the run (text, or the JSON the API's
//! `POST /automations/{id}/test` answers) with why the condition did or did not match.
//! Exit 0 when the run completed; 1 when it did not match, failed or is left waiting, or
//! when FILE does not compile; 2 on usage errors (unreadable files, bad JSON, bad `--mock`).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use automations_compiler::check::CheckedAutomation;
use automations_compiler::eval::Explanation;
use automations_compiler::json::to_json;
use automations_compiler::pipeline::{SourceFile, compile_source};
use automations_runtime::compiler_glue::CompilerFrontend;
use automations_runtime::model::{Run, RunStatus, StepStatus};
use automations_runtime::{OfflineTest, TestEvent, TestReport, TestRequest, test_offline};
use automations_server::api::runs::run_json;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Report, TestArgs, TestFormat, files};

/// The event file: the API test body's `event`, plus the records the automation may read
/// through references (there is no database offline).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    /// Defaults to the automation's trigger.
    #[serde(rename = "type", default)]
    event_type: Option<String>,
    #[serde(default)]
    record: Option<Map<String, Value>>,
    #[serde(default)]
    previous: Option<Map<String, Value>>,
    /// Payload of a custom event.
    #[serde(default)]
    data: Value,
    /// Object -> records (each with its `id`), e.g. `{"account": [{"id": "acc_1", ...}]}`.
    #[serde(default)]
    related: Map<String, Value>,
}

pub fn run(args: &TestArgs) -> anyhow::Result<ExitCode> {
    let schema = Arc::new(super::load_schema(args.schema.as_ref())?);
    let Some(automation) = automation(args, &schema)? else {
        return Ok(ExitCode::from(1));
    };
    let event = read_event(args)?;
    let records = related(&event.related)?;
    let request = TestRequest {
        event: TestEvent {
            event_type: event.event_type,
            record: match &args.record {
                Some(path) => Some(read_object(path, "--record")?),
                None => event.record,
            },
            previous: event.previous,
            data: event.data,
        },
        mocks: mocks(&args.mocks)?,
    };
    let env = OfflineTest {
        compiler: Arc::new(CompilerFrontend::new(schema.clone())),
        schema,
        plugins: None,
        records,
    };
    let definition = to_json(&automation.automation);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(test_offline(env, definition, request))?;
    match args.format {
        TestFormat::Json => println!("{}", report_json(&report)),
        TestFormat::Human => print!("{}", report_text(&report)),
    }
    let completed = report
        .run
        .as_ref()
        .is_some_and(|r| r.status == RunStatus::Completed);
    Ok(if completed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The automation of FILE (the one named by `--automation` when it holds several); `None`
/// after printing its diagnostics when it does not compile.
fn automation(
    args: &TestArgs,
    schema: &automations_compiler::schema::Schema,
) -> anyhow::Result<Option<CheckedAutomation>> {
    let path = &args.file;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source = SourceFile::new(files::display_name(path), text, files::is_json(path));
    let compiled = compile_source(&source, schema);
    if !compiled.diagnostics.is_empty() {
        let report = [Report {
            name: source.name.clone(),
            text: source.text.clone(),
            diagnostics: compiled.diagnostics.clone(),
        }];
        eprint!("{}", super::human(&report));
    }
    if compiled.has_errors() {
        return Ok(None);
    }
    let mut found = compiled.automations;
    if let Some(name) = &args.automation {
        found.retain(|a| &a.automation.name == name);
    }
    match found.len() {
        1 => Ok(found.pop()),
        0 => bail!("{} holds no automation of that name", path.display()),
        n => bail!(
            "{} holds {n} automations: choose one with --automation NAME",
            path.display()
        ),
    }
}

fn read_json(path: &std::path::Path, flag: &str) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{flag} {} is not valid JSON", path.display()))
}

fn read_object(path: &std::path::Path, flag: &str) -> anyhow::Result<Map<String, Value>> {
    match read_json(path, flag)? {
        Value::Object(m) => Ok(m),
        _ => bail!("{flag} {} must hold a JSON object", path.display()),
    }
}

fn read_event(args: &TestArgs) -> anyhow::Result<EventFile> {
    let value = read_json(&args.event, "--event")?;
    serde_json::from_value(value).with_context(|| {
        format!(
            "--event {}: expected {{\"type\", \"record\", \"previous\", \"data\", \"related\"}}",
            args.event.display()
        )
    })
}

/// `related` as (object, record) pairs; every record needs its `id`.
fn related(related: &Map<String, Value>) -> anyhow::Result<Vec<(String, Map<String, Value>)>> {
    let mut out = Vec::new();
    for (object, records) in related {
        let Value::Array(records) = records else {
            bail!("--event: related.{object} must be a list of records");
        };
        for (i, record) in records.iter().enumerate() {
            match record {
                Value::Object(m) if m.get("id").is_some_and(Value::is_string) => {
                    out.push((object.clone(), m.clone()))
                }
                _ => bail!("--event: related.{object}[{i}] must be an object with a string `id`"),
            }
        }
    }
    Ok(out)
}

/// `--mock STEP=JSON`, repeatable: the step's output, instead of running it.
fn mocks(specs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut out = Map::new();
    for spec in specs {
        let Some((step, json)) = spec.split_once('=').filter(|(s, _)| !s.trim().is_empty()) else {
            bail!(
                "--mock {spec:?}: expected STEP=JSON, e.g. --mock approval='{{\"approved\": true}}'"
            );
        };
        let value: Value = serde_json::from_str(json)
            .with_context(|| format!("--mock {step}: the output is not valid JSON"))?;
        if out.insert(step.trim().to_string(), value).is_some() {
            bail!("--mock {step} is given twice");
        }
    }
    Ok(out)
}

fn report_json(report: &TestReport) -> Value {
    json!({
        "matched": report.matched,
        "explanation": report.explanation,
        "run": report.run.as_ref().map(run_json),
    })
}

fn why(explanation: &Explanation) -> String {
    if explanation.clauses.is_empty() {
        "no condition: every event matches".to_string()
    } else {
        explanation.to_string()
    }
}

fn report_text(report: &TestReport) -> String {
    let mut out = String::new();
    let verdict = if report.matched {
        "matched"
    } else {
        "did not match"
    };
    out.push_str(&format!("{verdict}: {}\n", why(&report.explanation)));
    if let Some(run) = &report.run {
        out.push_str(&run_text(run));
    }
    out
}

fn run_text(run: &Run) -> String {
    // No ids or timings here (`--format json` has them): the text is stable for a given
    // automation and event, but for the synthetic `dry_` ids of effects.
    let mut out = format!("dry run {}: {} step(s)\n", run.status, run.steps.len());
    if let Some(error) = &run.error {
        out.push_str(&format!("  error: {error}\n"));
    }
    for step in &run.steps {
        out.push_str(&format!(
            "  {} {}: {}\n",
            step.id, step.step_type, step.status
        ));
        if let Some(input) = step.input.as_ref().filter(|v| !is_empty(v)) {
            out.push_str(&format!("    input: {input}\n"));
        }
        if let Some(output) = step.output.as_ref().filter(|v| !is_empty(v)) {
            out.push_str(&format!("    output: {output}\n"));
        }
        for effect in &step.effects {
            let applied = if effect.applied {
                "applied"
            } else {
                "not applied"
            };
            out.push_str(&format!(
                "    effect {} ({applied}): {}\n",
                effect.kind, effect.detail
            ));
        }
        if let Some(error) = &step.error {
            out.push_str(&format!("    error: {error}\n"));
        }
        if step.status == StepStatus::Waiting {
            out.push_str(&format!(
                "    waiting: give its output with --mock {}='{{...}}'\n",
                step.id
            ));
        }
    }
    out
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}
