//! `automations backtest`: a backtest (issue 23) run in this process against a database,
//! and the summary that `backtest` and `plan --backtest` print.
//!
//! It opens the database as `serve` does (migrations, schemas, plugins), replays and
//! prints; the job and its result are kept in the database like the API's. Exit 0 when
//! the backtest completed, 1 when it failed or the automation is unknown, 2 for a usage
//! error or a request out of bounds.

use std::process::ExitCode;

use anyhow::{Context, anyhow};
use automations_runtime::RuntimeError;
use automations_runtime::backtest::{
    BacktestRequest, BacktestStatus, DEFAULT_LIMIT, VersionChoice,
};
use automations_runtime::store::Store;
use automations_server::serve::{OpenConfig, open_engine_with};
use chrono::{DateTime, Utc};
use serde_json::Value;

const DEFAULT_DATABASE: &str = "sqlite://automations.db";

#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum BacktestFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    /// The automation's id (`aut_...`).
    automation: String,
    /// How far back from `--to`: a duration such as `7d`, `48h`, `90m`.
    #[arg(long, default_value = "7d", conflicts_with = "from")]
    since: String,
    /// Start of the range (RFC 3339), instead of `--since`.
    #[arg(long)]
    from: Option<String>,
    /// End of the range (RFC 3339; default now).
    #[arg(long)]
    to: Option<String>,
    /// At most this many events (1 to 100,000).
    #[arg(long, default_value_t = DEFAULT_LIMIT)]
    limit: u32,
    /// `draft` (the current version), a version number, or `sandbox`.
    #[arg(long, default_value = "draft")]
    version: String,
    #[arg(long, default_value = "default")]
    workspace: String,
    #[arg(long, default_value = DEFAULT_DATABASE)]
    database_url: String,
    #[arg(long, value_enum, default_value = "human")]
    format: BacktestFormat,
}

fn instant(flag: &str, text: &str) -> anyhow::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| {
            anyhow!("{flag} {text:?} is not an RFC 3339 date-time (2026-01-31T09:00:00Z): {e}")
        })
}

/// `7d`, `48h`, ... as a span of time.
pub(crate) fn span(text: &str) -> anyhow::Result<chrono::Duration> {
    automations_runtime::expr::parse_duration(text)
        .filter(|ms| *ms > 0)
        .map(chrono::Duration::milliseconds)
        .ok_or_else(|| anyhow!("{text:?} is not a duration such as 7d, 48h or 90m"))
}

pub fn run(args: &BacktestArgs) -> anyhow::Result<ExitCode> {
    let to = match &args.to {
        Some(t) => instant("--to", t)?,
        None => Utc::now(),
    };
    let from = match &args.from {
        Some(f) => instant("--from", f)?,
        None => to - span(&args.since)?,
    };
    let version = VersionChoice::parse(&args.version).ok_or_else(|| {
        anyhow!(
            "--version {:?}: use draft, sandbox or a version number from 1",
            args.version
        )
    })?;
    let req = BacktestRequest {
        from,
        to,
        limit: args.limit,
        version,
        definition: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (engine, _, _) = open_engine_with(&args.database_url, OpenConfig::default())
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let ws = engine
            .store()
            .workspace_by_name(&args.workspace)
            .await?
            .with_context(|| format!("no workspace named {:?}", args.workspace))?;
        let outcome = engine.run_backtest(&ws.id, &args.automation, req).await;
        engine.store().close().await;
        let b = match outcome {
            Ok(b) => b,
            Err(RuntimeError::BadRequest(message)) => {
                eprintln!("error: {message}");
                return Ok(ExitCode::from(2));
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(1));
            }
        };
        let json = serde_json::to_value(&b)?;
        match args.format {
            BacktestFormat::Json => println!("{}", serde_json::to_string_pretty(&json)?),
            BacktestFormat::Human => {
                println!(
                    "backtest {} of {} (version {})",
                    b.id, b.automation_id, b.version
                );
                for line in summary(&json["result"]) {
                    println!("{line}");
                }
            }
        }
        Ok(match b.status {
            BacktestStatus::Completed => ExitCode::SUCCESS,
            _ => {
                eprintln!(
                    "backtest {}: {}",
                    b.status.as_str(),
                    b.error.as_deref().unwrap_or("")
                );
                ExitCode::from(1)
            }
        })
    })
}

/// A backtest result (its JSON, as the API answers it) as lines of text: counts, then the
/// effects by kind and target, then the first sampled run's explanation.
pub(crate) fn summary(result: &Value) -> Vec<String> {
    if result.is_null() {
        return vec!["  no result".into()];
    }
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let runs = &result["runs"];
    let mut lines = vec![format!(
        "  {} {} event(s) considered{}, {} matched: {} run(s) ({} completed, {} failed, {} waiting, {} loop_detected)",
        n(&result["events_considered"]),
        result["trigger"].as_str().unwrap_or(""),
        if result["truncated"] == Value::Bool(true) {
            " (limit reached)"
        } else {
            ""
        },
        n(&result["events_matched"]),
        n(&runs["total"]),
        n(&runs["completed"]),
        n(&runs["failed"]),
        n(&runs["waiting"]),
        n(&runs["loop_detected"]),
    )];
    let groups = result["effects"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if groups.is_empty() {
        lines.push("  no effects".into());
    }
    for g in &groups {
        let mut line = format!(
            "  {:<13} {:<40} x{}",
            g["kind"].as_str().unwrap_or(""),
            g["target"].as_str().unwrap_or(""),
            n(&g["count"])
        );
        let values: Vec<String> = g["values"]
            .as_array()
            .into_iter()
            .flatten()
            .take(5)
            .map(|v| format!("{} x{}", v["value"], n(&v["count"])))
            .collect();
        if !values.is_empty() {
            line.push_str(&format!("  [{}]", values.join(", ")));
        }
        lines.push(line);
    }
    if n(&result["effects"]["more"]) > 0 {
        lines.push(format!(
            "  ... and {} effect(s) in more groups",
            n(&result["effects"]["more"])
        ));
    }
    if let Some(miss) = result["sample_non_matches"]
        .as_array()
        .and_then(|a| a.first())
    {
        let clause = &miss["explanation"]["clauses"][0];
        if let Some(text) = clause["text"].as_str() {
            let seen: Vec<String> = clause["values"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| format!("{} = {}", v["field"].as_str().unwrap_or(""), v["value"]))
                .collect();
            lines.push(format!(
                "  e.g. no match on {}: `{text}` was false ({})",
                miss["event_id"].as_str().unwrap_or(""),
                seen.join(", ")
            ));
        }
    }
    lines
}
