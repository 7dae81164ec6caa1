//! `automations migrate --database-url URL`: applies the runtime's migrations and exits.

use std::process::ExitCode;

use automations_server::serve::migrate;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[arg(long, default_value = "sqlite://automations.db")]
    database_url: String,
}

pub fn run(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(migrate(&args.database_url))?;
    eprintln!("migrations applied to {}", args.database_url);
    Ok(ExitCode::SUCCESS)
}
