//! `automations eval --object OBJ --record JSON [--previous JSON] [--explain] 'EXPR'`
//!
//! Prints `true` or `false` and exits 0; a condition that does not compile prints its
//! diagnostics and exits 1; an unusable `--record`/`--previous` is a usage error (2).

use std::process::ExitCode;

use anyhow::{Context, bail};
use automations_compiler::pipeline::{ConditionInput, compile_condition};

use super::{EvalArgs, Report};

pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let schema = super::load_schema(args.schema.as_ref())?;
    let record = parse_object("--record", &args.record)?;
    let previous = args
        .previous
        .as_deref()
        .map(|p| parse_object("--previous", p))
        .transpose()?;
    let condition = match compile_condition(&args.expr, &args.object, &schema) {
        Ok(condition) => condition,
        Err(diagnostics) => {
            let report = [Report {
                name: "<expr>".into(),
                text: args.expr.clone(),
                diagnostics,
            }];
            eprint!("{}", super::human(&report));
            return Ok(ExitCode::from(1));
        }
    };
    if !condition.warnings().is_empty() {
        let report = [Report {
            name: "<expr>".into(),
            text: args.expr.clone(),
            diagnostics: condition.warnings().to_vec(),
        }];
        eprint!("{}", super::human(&report));
    }
    let input = ConditionInput {
        previous: previous.as_ref(),
        ..ConditionInput::record(&record, chrono::Utc::now().timestamp_millis())
    };
    if args.explain {
        let explanation = condition.explain(&input);
        println!("{}", explanation.result);
        println!("{explanation}");
    } else {
        println!("{}", condition.eval(&input));
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_object(flag: &str, text: &str) -> anyhow::Result<serde_json::Value> {
    let value: serde_json::Value =
        serde_json::from_str(text).with_context(|| format!("{flag} is not valid JSON"))?;
    if !value.is_object() {
        bail!("{flag} must be a JSON object, such as '{{\"priority\": \"high\"}}'");
    }
    Ok(value)
}
