//! `automations token create|list|revoke`: API tokens of a workspace.
//!
//! `create` makes the workspace when missing and prints the new token alone on the last
//! line of stdout (DESIGN §12.1), its id on stderr. `list` prints one tab-separated line
//! per token (id, name, scopes, rate limit, created, revoked or `-`); `revoke ID` ends a
//! token at once. Rotating the admin token is `create --scopes admin` then `revoke` of the
//! old id: `AUTOMATIONS_ADMIN_TOKEN` is honoured at first start only.

use std::process::ExitCode;

use anyhow::anyhow;
use automations_runtime::model::ts;
use automations_server::auth::Scope;
use automations_server::rate_limit::{describe, parse_rate_limit};
use automations_server::serve::{TokenRequest, create_token, list_tokens, revoke_token};

const DEFAULT_DATABASE: &str = "sqlite://automations.db";

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
        /// A label for the token (shown by `token list` and in the audit log).
        #[arg(long, default_value = "cli")]
        name: String,
        /// The token's own request rate limit instead of the server's `--rate-limit`:
        /// `N/s`, `N/min`, `N/h`, or `off` (or 0) for unlimited.
        #[arg(long, value_name = "RATE")]
        rate_limit: Option<String>,
        /// Requests the token may send at once before its rate applies (default: three
        /// seconds' worth).
        #[arg(long, value_name = "N", requires = "rate_limit")]
        rate_burst: Option<f64>,
        #[arg(long, default_value = DEFAULT_DATABASE)]
        database_url: String,
    },
    /// List a workspace's tokens (never their secrets): id, name, scopes, rate limit,
    /// created, revoked.
    List {
        #[arg(long, default_value = "default")]
        workspace: String,
        #[arg(long, default_value = DEFAULT_DATABASE)]
        database_url: String,
    },
    /// Revoke a token by its id (`tok_...`); its next request answers 401.
    Revoke {
        /// The token's id, as `token create` and `token list` print it.
        id: String,
        #[arg(long, default_value = "default")]
        workspace: String,
        #[arg(long, default_value = DEFAULT_DATABASE)]
        database_url: String,
    },
}

pub fn run(args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match &args.command {
        TokenCommand::Create {
            workspace,
            scopes,
            name,
            rate_limit,
            rate_burst,
            database_url,
        } => {
            let scopes = Scope::parse_list(scopes).map_err(|e| anyhow!(e))?;
            let rate_limit = rate_limit
                .as_deref()
                .map(|rate| parse_rate_limit(rate, *rate_burst))
                .transpose()
                .map_err(|e| anyhow!("invalid --rate-limit: {e}"))?;
            let request = TokenRequest {
                database_url: database_url.clone(),
                workspace: workspace.clone(),
                name: name.clone(),
                scopes,
                rate_limit,
            };
            let (token, plain) = runtime.block_on(create_token(&request))?;
            eprintln!(
                "created token {} for workspace `{workspace}` (shown once; store it now)",
                token.id
            );
            println!("{plain}");
        }
        TokenCommand::List {
            workspace,
            database_url,
        } => {
            for token in runtime.block_on(list_tokens(database_url, workspace))? {
                let rate = token
                    .rate_limit
                    .map_or_else(|| "server".to_string(), describe);
                let revoked = token.revoked_at.map_or_else(|| "-".to_string(), ts);
                println!(
                    "{}\t{}\t{}\t{rate}\t{}\t{revoked}",
                    token.id,
                    token.name,
                    token.scopes.join(","),
                    ts(token.created_at),
                );
            }
        }
        TokenCommand::Revoke {
            id,
            workspace,
            database_url,
        } => {
            runtime.block_on(revoke_token(database_url, workspace, id))?;
            eprintln!("revoked token {id} of workspace `{workspace}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}
