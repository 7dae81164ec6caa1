//! `plan --backtest 7d`: each updated automation replayed by the server over recent
//! history, its edited text beside its current version, one summary per automation.
//! Created automations have no history of their own to compare and are named as such.

use std::time::Duration;

use anyhow::bail;
use chrono::Utc;
use serde_json::{Value, json};

use super::local::LocalFile;
use super::plan::Plan;
use super::remote::Remote;
use crate::cli::backtest::summary;

/// Events replayed per backtest of a plan.
const LIMIT: u32 = 10_000;
/// How long a plan waits for one backtest.
const WAIT: Duration = Duration::from_secs(600);

pub async fn print(
    remote: &Remote,
    files: &[LocalFile],
    plan: &Plan<'_>,
    since: chrono::Duration,
) -> anyhow::Result<()> {
    let to = Utc::now();
    let from = to - since;
    let range = json!({"from": from.to_rfc3339(), "to": to.to_rfc3339(), "limit": LIMIT});
    for update in &plan.updates {
        let local = &files[update.at.file].automations[update.at.automation];
        let id = &update.server.id;
        let mut edited = range.clone();
        edited["definition"] = Value::String(local.source.clone());
        let current = range.clone();
        println!();
        println!(
            "backtest {:?} ({id}) from {}:",
            update.server.name,
            from.to_rfc3339()
        );
        for (label, body) in [("edited", edited), ("current", current)] {
            let result = run(remote, id, &body).await?;
            println!(" {label}:");
            for line in summary(&result) {
                println!("  {line}");
            }
        }
    }
    for at in &plan.creates {
        let name = &files[at.file].automations[at.automation].name;
        println!();
        println!(
            "backtest {name:?}: not run (a new automation: apply it as a draft, then `automations backtest`)"
        );
    }
    Ok(())
}

/// Starts one backtest and waits for its result.
async fn run(remote: &Remote, id: &str, body: &Value) -> anyhow::Result<Value> {
    let job = remote.start_backtest(id, body).await?;
    let Some(backtest_id) = job["id"].as_str() else {
        bail!("the server's answer has no backtest id");
    };
    let started = std::time::Instant::now();
    loop {
        let b = remote.backtest(id, backtest_id).await?;
        match b["status"].as_str() {
            Some("completed") => return Ok(b["result"].clone()),
            Some("queued" | "running") if started.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Some("queued" | "running") => bail!(
                "backtest {backtest_id} did not end within {} s",
                WAIT.as_secs()
            ),
            other => bail!(
                "backtest {backtest_id} ended {}: {}",
                other.unwrap_or("?"),
                b["error"].as_str().unwrap_or("")
            ),
        }
    }
}
