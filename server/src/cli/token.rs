//! `automations token create --workspace NAME --scopes LIST [--database-url URL]`: creates
//! the workspace when missing and prints the new token alone on the last line of stdout.

use std::process::ExitCode;

use anyhow::anyhow;
use automations_server::auth::Scope;
use automations_server::serve::{TokenRequest, create_token};

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create a bearer token for a workspace.
    Create {
        #[arg(long, default_value = "default")]
        workspace: String,
        /// Comma-separated scopes, e.g. `automations:write,runs:write` or `admin`.
        #[arg(long)]
        scopes: String,
        #[arg(long, default_value = "sqlite://automations.db")]
        database_url: String,
    },
}

pub fn run(args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let TokenCommand::Create {
        workspace,
        scopes,
        database_url,
    } = &args.command;
    let scopes = Scope::parse_list(scopes).map_err(|e| anyhow!(e))?;
    let request = TokenRequest {
        database_url: database_url.clone(),
        workspace: workspace.clone(),
        scopes,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let token = runtime.block_on(create_token(&request))?;
    eprintln!("created a token for workspace `{workspace}` (shown once; store it now)");
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
