//! `automations lint PATH... [--format human|json|sarif] [--schema FILE] [--deny-warnings]`

use std::process::ExitCode;

use anyhow::Context;
use automations_compiler::diagnostic::Severity;
use automations_compiler::pipeline::{SourceFile, compile_source};
use automations_compiler::render;

use super::files::{self, CollectConfig};
use super::{LintArgs, OutputFormat, Report};

pub fn run(args: &LintArgs) -> anyhow::Result<ExitCode> {
    let schema = super::load_schema(args.schema.as_ref())?;
    let paths = files::collect(
        &args.paths,
        &CollectConfig {
            json_in_folders: true,
        },
    )?;
    let mut reports = Vec::with_capacity(paths.len());
    for path in &paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let source = SourceFile::new(files::display_name(path), text, files::is_json(path));
        let compiled = compile_source(&source, &schema);
        reports.push(Report {
            name: source.name,
            text: source.text,
            diagnostics: compiled.diagnostics,
        });
    }
    let count = |severity| {
        reports
            .iter()
            .flat_map(|r| &r.diagnostics)
            .filter(|d| d.severity == severity)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    match args.format {
        OutputFormat::Human => {
            eprint!("{}", super::human(&reports));
            let files = match reports.len() {
                1 => "1 file".to_string(),
                n => format!("{n} files"),
            };
            let verdict = if errors + warnings == 0 {
                ", no problems found"
            } else {
                ""
            };
            eprintln!("checked {files}{verdict}");
        }
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&render::render_json_value(&super::borrowed(&reports)))?
        ),
        OutputFormat::Sarif => println!(
            "{}",
            serde_json::to_string_pretty(&render::render_sarif_value(&super::borrowed(&reports)))?
        ),
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
