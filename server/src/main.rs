//! The `automations` binary: every subcommand of DESIGN §11.
//!
//! Offline commands (`lint`, `fmt`, `compile`, `eval`) use only the compiler, so they stay
//! fast and need no database. Exit codes are a contract: 0 success, 1 errors found,
//! 2 usage errors (clap's own exit code for bad arguments).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
