//! `automations migrate --database-url URL`: applies the runtime's migrations and exits.

use std::process::ExitCode;

use automations_server::serve::migrate;

use super::serve::SynchronousArg;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// `sqlite://FILE` (default `sqlite://automations.db`) or `postgres://...`.
    #[arg(long, default_value = "sqlite://automations.db")]
    database_url: String,
    /// SQLite: whether each commit waits for the disk while migrating (as for `serve`).
    #[arg(long, value_enum, default_value_t = SynchronousArg::Normal)]
    sqlite_synchronous: SynchronousArg,
}

pub fn run(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(migrate(&args.database_url, args.sqlite_synchronous.into()))?;
    let shown = automations_runtime::secrets::redact_text(&args.database_url);
    eprintln!("migrations applied to {shown}");
    Ok(ExitCode::SUCCESS)
}
