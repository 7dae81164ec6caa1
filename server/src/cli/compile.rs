//! `automations compile FILE --emit ir|json|dsl`

use std::process::ExitCode;

use anyhow::Context;
use automations_compiler::pipeline::{SourceFile, compile_source};
use automations_compiler::{json, print};

use super::{CompileArgs, Emit, Report, files};

pub fn run(args: &CompileArgs) -> anyhow::Result<ExitCode> {
    let schema = super::load_schema(args.schema.as_ref())?;
    let path = &args.file;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source = SourceFile::new(files::display_name(path), text, files::is_json(path));
    let compiled = compile_source(&source, &schema);
    if !compiled.diagnostics.is_empty() {
        let report = [Report {
            name: source.name.clone(),
            text: source.text.clone(),
            diagnostics: compiled.diagnostics.clone(),
        }];
        eprint!("{}", super::human(&report));
    }
    if compiled.has_errors() {
        return Ok(ExitCode::from(1));
    }
    let automations: Vec<_> = compiled
        .automations
        .iter()
        .map(|c| c.automation.clone())
        .collect();
    match args.emit {
        Emit::Ir => {
            for checked in &compiled.automations {
                println!("{checked:#?}");
            }
        }
        Emit::Json => println!("{}", json::to_json_text(&automations)),
        Emit::Dsl => {
            let blockers: Vec<_> = automations.iter().flat_map(print::dsl_blockers).collect();
            if !blockers.is_empty() {
                let report = [Report {
                    name: source.name.clone(),
                    text: source.text.clone(),
                    diagnostics: blockers,
                }];
                eprint!("{}", super::human(&report));
                return Ok(ExitCode::from(1));
            }
            print!("{}", print::print_dsl(&automations))
        }
    }
    Ok(ExitCode::SUCCESS)
}
