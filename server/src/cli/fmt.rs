//! `automations fmt PATH... [--check]`: canonical `.auto` text (and canonical JSON for
//! `.json` files named explicitly).

use std::process::ExitCode;

use anyhow::Context;
use automations_compiler::pipeline::{SourceFile, canonical_text};

use super::files::{self, CollectConfig};
use super::{FmtArgs, Report};

pub fn run(args: &FmtArgs) -> anyhow::Result<ExitCode> {
    let paths = files::collect(
        &args.paths,
        &CollectConfig {
            json_in_folders: false,
        },
    )?;
    let mut failed = Vec::new();
    let mut changed = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let source = SourceFile::new(files::display_name(path), text, files::is_json(path));
        match canonical_text(&source) {
            Ok(canonical) if canonical == source.text => {}
            Ok(canonical) => {
                if args.check {
                    println!("{}", source.name);
                } else {
                    std::fs::write(path, canonical)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!("formatted {}", source.name);
                }
                changed.push(source.name);
            }
            Err(diagnostics) => failed.push(Report {
                name: source.name,
                text: source.text,
                diagnostics,
            }),
        }
    }
    if !failed.is_empty() {
        eprint!("{}", super::human(&failed));
        eprintln!("{} file(s) could not be formatted", failed.len());
        return Ok(ExitCode::from(1));
    }
    Ok(if args.check && !changed.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
