//! `automations plugin new NAME` and `automations plugin check FILE.wasm` (DESIGN §8, §11):
//! thin wrappers over automations-host-api's scaffold and component check. They never run
//! guest code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use automations_host_api::{ComponentReport, ScaffoldConfig, check_plugin, scaffold_plugin};

#[derive(Debug, clap::Args)]
pub struct PluginArgs {
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PluginCommand {
    /// Scaffold a plugin crate (Cargo.toml, src/lib.rs, manifest.json).
    New {
        /// The plugin's name (lower-case letters, digits and `-`).
        name: String,
        /// Where to write it (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Say whether the server would accept the component (and manifest) as an upload, and
    /// why not; list its imports and exports.
    Check {
        file: PathBuf,
        /// The manifest to check with it, as it would be uploaded.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: &PluginArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        PluginCommand::New { name, dir } => new(name, dir.as_deref()),
        PluginCommand::Check {
            file,
            manifest,
            json,
        } => check(file, manifest.as_deref(), *json),
    }
}

fn new(name: &str, dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let dir = dir.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    let config = ScaffoldConfig {
        sdk_dependency: sdk_dependency(),
    };
    match scaffold_plugin(name, &dir, &config) {
        Ok(written) => {
            for path in written {
                println!("created {}", path.display());
            }
            println!(
                "build it with: cargo build --release --target wasm32-wasip2 --manifest-path {}",
                dir.join("Cargo.toml").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The SDK as a path dependency when this binary runs from a checkout (the sdk folder beside
/// the server crate still exists), else the released version of the same number.
fn sdk_dependency() -> String {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    match sdk.join("Cargo.toml").is_file().then(|| sdk.canonicalize()) {
        Some(Ok(path)) => format!("{{ path = {:?} }}", path.display().to_string()),
        _ => format!("\"{}\"", env!("CARGO_PKG_VERSION")),
    }
}

fn check(file: &Path, manifest: Option<&Path>, json: bool) -> anyhow::Result<ExitCode> {
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let manifest = manifest
        .map(|path| {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
        })
        .transpose()?;
    let limit = automations_server::api::plugins::DEFAULT_UPLOAD_LIMIT;
    let mut result = check_plugin(&wasm, manifest.as_deref());
    if wasm.len() > limit {
        let problem = format!(
            "the component is {} bytes, over the server's default upload limit of {} MiB \
             (`serve --plugin-upload-limit` raises it)",
            wasm.len(),
            limit >> 20
        );
        match &mut result {
            Ok(_) => result = Err(vec![problem]),
            Err(problems) => problems.insert(0, problem),
        }
    }
    match result {
        Ok(report) if json => {
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Ok(report) => {
            print!("{}", human_report(file, &report));
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) if json => {
            println!(
                "{}",
                serde_json::json!({ "ok": false, "problems": problems })
            );
            Ok(ExitCode::from(1))
        }
        Err(problems) => {
            eprintln!(
                "error: {} is not a valid automations plugin (the server would refuse it):",
                file.display()
            );
            for problem in problems {
                eprintln!("  - {problem}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

fn human_report(file: &Path, report: &ComponentReport) -> String {
    let mut out = format!(
        "{}: ok (world automations:plugin@0.1.0/action)\nsha256: {}\nsize: {} bytes\n",
        file.display(),
        report.sha256,
        report.size_bytes
    );
    let mut section = |title: &str, items: &[String]| {
        out.push_str(&format!("{title}:\n"));
        if items.is_empty() {
            out.push_str("  (none)\n");
        }
        for item in items {
            out.push_str(&format!("  {item}\n"));
        }
    };
    section("plugin imports", &report.plugin_imports);
    section("wasi imports (nothing granted)", &report.wasi_imports);
    section(
        "denied imports (link; a call fails the step)",
        &report.denied_imports,
    );
    section("exports", &report.exports);
    out
}
