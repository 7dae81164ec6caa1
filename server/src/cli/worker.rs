//! `automations worker --database-url postgres://... [...]`: an extra node without HTTP
//! (engine, timers, outbox) until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use automations_runtime::OutputCaps;
use automations_server::logging::{self, LogFormat};
use automations_server::serve::parse_lease;
use automations_server::worker::{WorkerConfig, work};

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The shared database: `postgres://user:password@host:port/database`.
    #[arg(long)]
    database_url: String,
    /// SMTP server for `send_email` (as for `serve`).
    #[arg(long)]
    smtp_url: Option<String>,
    /// Slack incoming webhook for `send_notification` with `channel: slack`.
    #[arg(long)]
    slack_webhook_url: Option<String>,
    /// Allow webhooks and Slack to reach private and loopback addresses.
    #[arg(long)]
    webhook_allow_private: bool,
    /// How long a claimed outbox delivery stays this node's (as for `serve`).
    #[arg(long, value_name = "DURATION", value_parser = parse_lease)]
    outbox_lease: Option<std::time::Duration>,
    /// Let plugin `http` reach this address block despite the SSRF policy (repeatable).
    #[arg(long = "plugin-http-allow", value_name = "NET")]
    plugin_http_allow: Vec<String>,
    /// Cap in bytes on one rendered text param of a step.
    #[arg(long, default_value_t = OutputCaps::default().text_param_bytes)]
    max_text_param_bytes: usize,
    /// Cap in bytes on one rendered payload param.
    #[arg(long, default_value_t = OutputCaps::default().payload_param_bytes)]
    max_payload_param_bytes: usize,
    /// Cap in bytes on all rendered params of one step together.
    #[arg(long, default_value_t = OutputCaps::default().step_param_bytes)]
    max_step_param_bytes: usize,
    /// `text` or `json` logs (`RUST_LOG` sets the level).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

pub fn run(args: &WorkerArgs) -> anyhow::Result<ExitCode> {
    let config = WorkerConfig {
        database_url: args.database_url.clone(),
        smtp_url: args.smtp_url.clone(),
        slack_webhook_url: args.slack_webhook_url.clone(),
        webhook_allow_private: args.webhook_allow_private,
        outbox_lease: args.outbox_lease,
        plugin_http_allow: args.plugin_http_allow.clone(),
        output_caps: OutputCaps {
            text_param_bytes: args.max_text_param_bytes,
            payload_param_bytes: args.max_payload_param_bytes,
            step_param_bytes: args.max_step_param_bytes,
        },
    };
    logging::init(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(work(config))?;
    Ok(ExitCode::SUCCESS)
}
