//! `automations pull DIR`, `plan DIR` and `apply DIR`: a workspace's automations kept as
//! `.auto` files in git.
//!
//! `pull` writes each automation (archived ones aside) to its own canonical file, with its
//! id on a `# id:` line above it. `plan` reads the folder, checks every file (syntax
//! offline, names and types by the server's `validate`, so with its schema and plugins) and
//! prints what would change: created (no id), updated (a diff of the canonical texts), and
//! on the server only (archived with `--prune`). `apply` does it through
//! `POST /automations/apply` in one transaction, each update conditional on the version
//! that was compared, and refuses on any error; it writes the ids of the automations it
//! created into their files, so that a second `plan` shows nothing.

mod backtests;
mod diff;
mod local;
mod plan;
mod remote;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};

use self::local::{ID_PREFIX, LocalFile, file_stem, with_id};
use self::plan::{Plan, compare, server_canonical};
use self::remote::{Remote, ServerAutomation};

/// Where the server is and who is asking.
#[derive(Debug, clap::Args)]
pub struct RemoteArgs {
    /// The server's address (or `AUTOMATIONS_SERVER`; default http://127.0.0.1:8080).
    #[arg(long)]
    server: Option<String>,
    /// An API token of the workspace (or `AUTOMATIONS_TOKEN`).
    #[arg(long)]
    token: Option<String>,
    /// Seconds to wait for a connection to the server (or `AUTOMATIONS_CONNECT_TIMEOUT`;
    /// default 10).
    #[arg(long, value_name = "SECONDS")]
    connect_timeout: Option<f64>,
    /// Seconds to wait for each request's whole answer (or `AUTOMATIONS_TIMEOUT`;
    /// default 60).
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The folder of `.auto` files.
    dir: PathBuf,
    /// Also archive the automations that are on the server but in no file.
    #[arg(long)]
    prune: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// `plan`: [`SyncArgs`] and the optional backtest of each changed automation.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    sync: SyncArgs,
    /// Also backtest each updated automation over this much history (`7d`, `48h`): its
    /// edited text and its current version, replayed by the server in dry-run.
    #[arg(long, value_name = "DURATION")]
    backtest: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// The folder to write (created when missing).
    dir: PathBuf,
    #[command(flatten)]
    remote: RemoteArgs,
}

fn block_on<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

pub fn pull(args: &PullArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(&args.remote)?;
    let server = block_on(remote.automations())?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let existing = local::read_dir(&args.dir)?;
    let mut written = 0;
    for a in &server {
        let path = pull_path(&args.dir, &existing, a)?;
        let text = format!("{ID_PREFIX}{}\n{}", a.id, server_canonical(a));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("wrote {}", path.display());
            written += 1;
        }
    }
    println!(
        "{} automation(s) on the server, {written} file(s) written",
        server.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The file that already holds `a` alone, or a new one named after it.
fn pull_path(dir: &Path, existing: &[LocalFile], a: &ServerAutomation) -> anyhow::Result<PathBuf> {
    if let Some(file) = existing
        .iter()
        .find(|f| f.automations.iter().any(|l| l.id.as_deref() == Some(&a.id)))
    {
        anyhow::ensure!(
            file.automations.len() == 1,
            "{} holds {} with other automations: move it to a file of its own, then pull",
            file.path.display(),
            a.id
        );
        return Ok(file.path.clone());
    }
    let stem = file_stem(&a.name);
    let mut path = dir.join(format!("{stem}.auto"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.auto"));
        n += 1;
    }
    Ok(path)
}

pub fn plan(plan_args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let args = &plan_args.sync;
    let since = plan_args
        .backtest
        .as_deref()
        .map(crate::cli::backtest::span)
        .transpose()?;
    let remote = Remote::new(&args.remote)?;
    let files = local::read_dir(&args.dir)?;
    block_on(async {
        let server = remote.automations().await?;
        let plan = compare(&files, &server);
        let problems = check(&remote, &files, &plan).await?;
        let ok = problems == 0;
        print_plan(&files, &plan, args.prune, problems);
        if let Some(since) = since
            && ok
        {
            backtests::print(&remote, &files, &plan, since).await?;
        }
        Ok(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

pub fn apply(args: &SyncArgs) -> anyhow::Result<ExitCode> {
    let remote = Remote::new(&args.remote)?;
    let files = local::read_dir(&args.dir)?;
    block_on(async {
        let server = remote.automations().await?;
        let plan = compare(&files, &server);
        let problems = check(&remote, &files, &plan).await?;
        print_plan(&files, &plan, args.prune, problems);
        if problems > 0 {
            eprintln!("nothing was applied");
            return Ok(ExitCode::from(1));
        }
        if plan.is_empty(args.prune) {
            return Ok(ExitCode::SUCCESS);
        }
        let answer = remote.apply(changes(&files, &plan, args.prune)).await?;
        write_new_ids(&files, &plan, &answer)?;
        let items = answer["items"].as_array().map_or(0, Vec::len);
        println!("applied {items} change(s)");
        Ok(ExitCode::SUCCESS)
    })
}

/// Every file's syntax (offline) and every created or updated automation against the
/// server's schema and plugins; prints the problems and answers how many there were.
async fn check(remote: &Remote, files: &[LocalFile], plan: &Plan<'_>) -> anyhow::Result<usize> {
    let mut problems = plan.errors.clone();
    for file in files {
        for d in file.diagnostics.iter().filter(|d| d.is_error()) {
            let (line, column) = line_column(&file.text, d.span.start as usize);
            problems.push(format!(
                "{}:{line}:{column}: error[{}]: {}",
                file.path.display(),
                d.code,
                d.message
            ));
        }
    }
    let changed = plan
        .creates
        .iter()
        .chain(plan.updates.iter().map(|u| &u.at));
    for at in changed {
        let file = &files[at.file];
        let local = &file.automations[at.automation];
        let report = remote.validate(&local.source).await?;
        for d in report["diagnostics"].as_array().into_iter().flatten() {
            if d["severity"] != "error" {
                continue;
            }
            let line = d["line"].as_u64().unwrap_or(1) as usize + local.line;
            let mut problem = format!(
                "{}:{line}:{}: error[{}]: {}",
                file.path.display(),
                d["column"].as_u64().unwrap_or(1),
                d["code"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("")
            );
            if let Some(suggestion) = d["suggestion"].as_str() {
                problem.push_str(&format!(" (did you mean `{suggestion}`?)"));
            }
            problems.push(problem);
        }
    }
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() {
        eprintln!("{} error(s)", problems.len());
    }
    Ok(problems.len())
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// The changes, and a last line that says what they come to: with `problems` (printed on
/// stderr by `check`) the plan is refused, which its last line says instead of a count.
fn print_plan(files: &[LocalFile], plan: &Plan<'_>, prune: bool, problems: usize) {
    for at in &plan.creates {
        let file = &files[at.file];
        let name = &file.automations[at.automation].name;
        println!("+ create {name:?} ({})", file.path.display());
    }
    for update in &plan.updates {
        let file = &files[update.at.file];
        println!(
            "~ update {:?} ({}, {})",
            update.server.name,
            update.server.id,
            file.path.display()
        );
        for line in &update.diff {
            println!("    {line}");
        }
    }
    for a in &plan.only_on_server {
        if prune {
            println!("- archive {:?} ({})", a.name, a.id);
        } else {
            println!(
                "  keep {:?} ({}): in no file; --prune archives it",
                a.name, a.id
            );
        }
    }
    let archives = if prune { plan.only_on_server.len() } else { 0 };
    if problems > 0 {
        println!(
            "No plan: {problems} error(s), printed on stderr; nothing can be applied until they are fixed."
        );
    } else if plan.is_empty(prune) {
        println!("No changes.");
    } else {
        println!(
            "Plan: {} to create, {} to update, {archives} to archive.",
            plan.creates.len(),
            plan.updates.len()
        );
    }
}

/// The request's changes, in the order creates, updates, archives.
fn changes(files: &[LocalFile], plan: &Plan<'_>, prune: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for at in &plan.creates {
        let source = &files[at.file].automations[at.automation].source;
        out.push(json!({ "op": "create", "dsl": source }));
    }
    for u in &plan.updates {
        let source = &files[u.at.file].automations[u.at.automation].source;
        out.push(json!({
            "op": "update", "id": u.server.id, "version": u.server.version, "dsl": source,
        }));
    }
    if prune {
        for a in &plan.only_on_server {
            out.push(json!({ "op": "archive", "id": a.id, "version": a.version }));
        }
    }
    out
}

/// Writes the ids the server gave to the created automations above them in their files
/// (the answer's first items are the creates, in order).
fn write_new_ids(files: &[LocalFile], plan: &Plan<'_>, answer: &Value) -> anyhow::Result<()> {
    let items = answer["items"].as_array().cloned().unwrap_or_default();
    let mut per_file: Vec<Vec<(usize, String)>> = vec![Vec::new(); files.len()];
    for (at, item) in plan.creates.iter().zip(&items) {
        let id = item["id"]
            .as_str()
            .context("the server's answer has no id")?;
        let start = files[at.file].automations[at.automation].start;
        per_file[at.file].push((start, id.to_string()));
    }
    for (file, mut ids) in files.iter().zip(per_file) {
        if ids.is_empty() {
            continue;
        }
        // From the end of the file, so that earlier offsets stay right.
        ids.sort_by_key(|(start, _)| std::cmp::Reverse(*start));
        let mut text = file.text.clone();
        for (start, id) in ids {
            text = with_id(&text, start, &id);
        }
        std::fs::write(&file.path, text)
            .with_context(|| format!("cannot write {}", file.path.display()))?;
    }
    Ok(())
}
