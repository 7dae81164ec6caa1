//! Command-line definitions and dispatch to one module per subcommand.

mod backtest;
mod compile;
mod eval;
mod files;
mod fmt;
mod lint;
mod migrate;
mod plugin;
mod serve;
mod sync;
mod test;
mod token;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "automations",
    version,
    about = "Event-driven automations for CRM data"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check `.auto` and `.json` automations (files or folders) against the CRM schema.
    Lint(LintArgs),
    /// Rewrite `.auto` files in canonical form.
    Fmt(FmtArgs),
    /// Lower a definition and print it as IR, JSON or DSL.
    Compile(CompileArgs),
    /// Evaluate a condition on a record.
    Eval(EvalArgs),
    /// Dry-run an automation once on an event, offline, and show the run.
    Test(TestArgs),
    /// Serve the REST API v1 with the outbox worker and timers.
    Serve(serve::ServeArgs),
    /// An extra node on a shared PostgreSQL database: engine, timers and outbox, no HTTP.
    Worker(worker::WorkerArgs),
    /// Manage API tokens.
    Token(token::TokenArgs),
    /// Apply database migrations.
    Migrate(migrate::MigrateArgs),
    /// Scaffold or check plugins (WebAssembly components).
    Plugin(plugin::PluginArgs),
    /// Replay stored events through a version of an automation, in dry-run (issue 23).
    Backtest(backtest::BacktestArgs),
    /// Write a workspace's automations as `.auto` files (one per automation, with its id).
    Pull(sync::PullArgs),
    /// Check a folder of `.auto` files and show what `apply` would change on the server.
    Plan(sync::PlanArgs),
    /// Make the server match a folder of `.auto` files, in one transaction.
    Apply(sync::SyncArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Files or folders (folders are searched for `.auto` and `.json` automations).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    format: OutputFormat,
    /// A custom schema (JSON) that adds fields and objects to the built-in CRM schema.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not canonical and exit 1 if any.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Emit {
    Ir,
    Json,
    Dsl,
}

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    file: PathBuf,
    #[arg(long, value_enum)]
    emit: Emit,
    #[arg(long)]
    schema: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The record's object (`case`, `opportunity`, ... or a custom one).
    #[arg(long)]
    object: String,
    /// The record as a JSON object.
    #[arg(long)]
    record: String,
    /// The record before the change, for `previous.*` and `changed()`.
    #[arg(long)]
    previous: Option<String>,
    /// Also print which clause decided the result and the values it saw.
    #[arg(long)]
    explain: bool,
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The condition.
    expr: String,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TestFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// A `.auto` or `.json` file.
    file: PathBuf,
    /// The event (JSON): `type`, `record`, `previous`, `data`, and `related` records.
    #[arg(long)]
    event: PathBuf,
    /// The triggering record (JSON object); replaces the event's `record`.
    #[arg(long)]
    record: Option<PathBuf>,
    /// A step's output instead of running it (repeatable): `--mock approval='{"approved":true}'`.
    #[arg(long = "mock", value_name = "STEP=JSON")]
    mocks: Vec<String>,
    /// Which automation of FILE, when it holds several.
    #[arg(long)]
    automation: Option<String>,
    #[arg(long, value_enum, default_value = "human")]
    format: TestFormat,
    #[arg(long)]
    schema: Option<PathBuf>,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Lint(args) => lint::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Compile(args) => compile::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Worker(args) => worker::run(&args),
        Command::Token(args) => token::run(&args),
        Command::Migrate(args) => migrate::run(&args),
        Command::Plugin(args) => plugin::run(&args),
        Command::Backtest(args) => backtest::run(&args),
        Command::Pull(args) => sync::pull(&args),
        Command::Plan(args) => sync::plan(&args),
        Command::Apply(args) => sync::apply(&args),
    }
}

/// The built-in schema, extended by `--schema FILE` when given.
fn load_schema(path: Option<&PathBuf>) -> anyhow::Result<automations_compiler::schema::Schema> {
    use anyhow::Context;
    use automations_compiler::schema::Schema;
    match path {
        None => Ok(Schema::builtin()),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read schema {}", path.display()))?;
            Schema::from_json_str(&text)
                .with_context(|| format!("invalid schema {}", path.display()))
        }
    }
}

/// Colours only when standard error is a terminal and NO_COLOR is unset.
fn use_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// The diagnostics of one file, owned (the renderers borrow them as `FileDiagnostics`).
struct Report {
    name: String,
    text: String,
    diagnostics: Vec<automations_compiler::diagnostic::Diagnostic>,
}

fn borrowed(reports: &[Report]) -> Vec<automations_compiler::render::FileDiagnostics<'_>> {
    reports
        .iter()
        .map(|r| automations_compiler::render::FileDiagnostics {
            file: &r.name,
            source: &r.text,
            diagnostics: &r.diagnostics,
        })
        .collect()
}

/// Human diagnostics (with a summary line), coloured on a terminal.
fn human(reports: &[Report]) -> String {
    automations_compiler::render::render_human(
        &borrowed(reports),
        automations_compiler::render::RenderConfig { color: use_color() },
    )
}
