//! `automations-bench`: automations measured side by side with peer engines.
//!
//! `cargo run --release -p automations-bench -- all --json` prints one JSON object with
//! every figure; `-- GROUP --json` one group (`conditions`, `dispatch`, `plugins`,
//! `throughput`); `--quick` shortens every group (under a minute, no callgrind); without
//! `--json` a readable table. `-- report` runs every group (or reads `--from FILE`, the
//! output of `all --json`) and writes the figures into `bench/REPORT.md` and the plots
//! into `bench/plots/`. See `bench/REPORT.md` for the method.

mod conditions;
mod dispatch;
mod measure;
mod output;
mod plot;
mod plugins;
mod throughput;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use measure::Budget;

#[derive(Parser)]
#[command(about = "Benchmarks of automations against peer engines")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// One JSON object instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// Short runs (under a minute for everything, no callgrind).
    #[arg(long, global = true)]
    quick: bool,
    /// Also count instructions per plugin call with callgrind (slow: each count run
    /// compiles the component under valgrind).
    #[arg(long, global = true)]
    plugin_callgrind: bool,
    /// Also count instructions per record preparation with callgrind (doubles the runs).
    #[arg(long, global = true)]
    callgrind_prepare: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Every group.
    All,
    /// Conditions: our evaluators vs hand-written Rust, cel, zen-expression, evalexpr, rhai.
    Conditions,
    /// Dispatch: one event against 10 to 100,000 automations.
    Dispatch,
    /// Plugins: a fresh-instance call in our host vs a plain wasmtime host (and Extism).
    Plugins,
    /// Throughput: the seed automation through HTTP on the release binary.
    Throughput(throughput::Args),
    /// Writes the figures into bench/REPORT.md and the plots into bench/plots/.
    Report {
        /// The output of `all --json` to draw from, instead of running every group.
        #[arg(long)]
        from: Option<PathBuf>,
        #[command(flatten)]
        throughput: throughput::Args,
    },
    /// N evaluations of one engine on one condition (for callgrind).
    #[command(hide = true)]
    Count {
        engine: String,
        condition: String,
        /// Count preparations of a record instead of evaluations.
        #[arg(long)]
        prepare: bool,
        n: u64,
    },
    /// N fresh-instance calls of one plugin host (for callgrind).
    #[command(hide = true)]
    CountPlugin { host: String, n: u64 },
    /// N dispatches of the event to AUTOMATIONS automations of WORKLOAD (for callgrind).
    #[command(hide = true)]
    CountDispatch {
        workload: String,
        automations: usize,
        n: u64,
    },
}

fn log(line: &str) {
    eprintln!("{line}");
}

fn group(name: &str, budget: &Budget, args: &throughput::Args) -> anyhow::Result<Value> {
    let mut log = log;
    Ok(match name {
        "conditions" => serde_json::to_value(conditions::run(budget, &mut log)?)?,
        "dispatch" => serde_json::to_value(dispatch::run(budget, &mut log)?)?,
        "plugins" => serde_json::to_value(plugins::run(budget, &mut log)?)?,
        "throughput" => serde_json::to_value(throughput::run(args, budget, &mut log)?)?,
        other => anyhow::bail!("unknown group {other}"),
    })
}

const GROUPS: &[&str] = &["conditions", "dispatch", "plugins", "throughput"];

fn all(budget: &Budget, args: &throughput::Args) -> anyhow::Result<Value> {
    let mut out = serde_json::Map::new();
    out.insert("machine".into(), output::machine());
    for name in GROUPS {
        out.insert(name.to_string(), group(name, budget, args)?);
    }
    Ok(Value::Object(out))
}

fn print(json_out: bool, name: Option<&str>, value: &Value) -> anyhow::Result<()> {
    if json_out {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        println!("{}", output::tables(name, value));
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let budget = Budget {
        plugin_callgrind: cli.plugin_callgrind && !cli.quick,
        callgrind_prepare: cli.callgrind_prepare && !cli.quick,
        ..Budget::new(cli.quick)
    };
    let default_args = throughput::Args::default();
    match &cli.command {
        Command::Count {
            engine,
            condition,
            prepare,
            n,
        } => {
            let done = conditions::count(engine, condition, *prepare, *n)?;
            println!("{done}");
        }
        Command::CountPlugin { host, n } => {
            plugins::count(host, *n)?;
        }
        Command::CountDispatch {
            workload,
            automations,
            n,
        } => {
            let matched = dispatch::count(workload, *automations, *n)?;
            println!("{matched}");
        }
        Command::All => print(cli.json, None, &all(&budget, &default_args)?)?,
        Command::Conditions => print(
            cli.json,
            Some("conditions"),
            &json!({"conditions": group("conditions", &budget, &default_args)?}),
        )?,
        Command::Dispatch => print(
            cli.json,
            Some("dispatch"),
            &json!({"dispatch": group("dispatch", &budget, &default_args)?}),
        )?,
        Command::Plugins => print(
            cli.json,
            Some("plugins"),
            &json!({"plugins": group("plugins", &budget, &default_args)?}),
        )?,
        Command::Throughput(args) => print(
            cli.json,
            Some("throughput"),
            &json!({"throughput": group("throughput", &budget, args)?}),
        )?,
        Command::Report { from, throughput } => {
            let figures = match from {
                Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
                None => all(&budget, throughput)?,
            };
            output::write_report(&figures)?;
        }
    }
    Ok(())
}
