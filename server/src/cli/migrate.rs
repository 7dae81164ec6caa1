//! `automations migrate --database-url URL`: applies the runtime's migrations and exits.

use std::process::ExitCode;

use automations_server::serve::migrate;

use super::serve::SynchronousArg;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
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
    eprintln!("migrations applied to {}", args.database_url);
    Ok(ExitCode::SUCCESS)
}
