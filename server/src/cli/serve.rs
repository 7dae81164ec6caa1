//! `automations serve [--addr 127.0.0.1:8080] [--database-url URL] ...`: the HTTP API with
//! the outbox worker and timers, until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;

use automations_runtime::OutputCaps;
use automations_runtime::record_log::AutomationLogConfig;
use automations_runtime::store::Synchronous;
use automations_server::logging::{self, LogFormat};
use automations_server::rate_limit::parse_rate_limit;
use automations_server::serve::{ServeConfig, parse_lease, parse_size, serve};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// `sqlite://automations.db` (default; created when missing), `sqlite::memory:`, or
    /// `postgres://user:password@host:port/database` (several nodes on one database).
    #[arg(long, default_value = "sqlite://automations.db")]
    database_url: String,
    /// SMTP server for `send_email` (e.g. `smtp://localhost:25`); without it, mail goes to
    /// the local mailbox.
    #[arg(long)]
    smtp_url: Option<String>,
    /// Slack incoming webhook for `send_notification` with `channel: slack`.
    #[arg(long)]
    slack_webhook_url: Option<String>,
    /// Allow webhooks and Slack to reach private and loopback addresses (tests, intranets).
    #[arg(long)]
    webhook_allow_private: bool,
    /// How long a claimed outbox delivery stays this node's before another node may send
    /// it again (same idempotency key): `30s`, `1500ms`; default 60s. Keep it above the
    /// slowest receiver's answer time.
    #[arg(long, value_name = "DURATION", value_parser = parse_lease)]
    outbox_lease: Option<std::time::Duration>,
    /// Let plugin `http` reach this address block despite the SSRF policy (an IP such as
    /// `127.0.0.1` or a CIDR such as `10.0.0.0/8`; repeatable). The plugin still needs its
    /// `http:fetch:HOST` grant.
    #[arg(long = "plugin-http-allow", value_name = "NET")]
    plugin_http_allow: Vec<String>,
    /// The largest plugin upload (`POST /api/v1/plugins`); a larger body answers 413.
    /// Bytes, or with a unit: `64MiB`, `512KiB`, `1GiB`.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    plugin_upload_limit: usize,
    /// Cap in bytes on one rendered text param of a step (message, subject, title, ...);
    /// past it the step fails before anything is sent or stored.
    #[arg(long, default_value_t = OutputCaps::default().text_param_bytes)]
    max_text_param_bytes: usize,
    /// Cap in bytes on one rendered payload param (webhook body and headers, email body,
    /// plugin input, record fields).
    #[arg(long, default_value_t = OutputCaps::default().payload_param_bytes)]
    max_payload_param_bytes: usize,
    /// Cap in bytes on all rendered params of one step together.
    #[arg(long, default_value_t = OutputCaps::default().step_param_bytes)]
    max_step_param_bytes: usize,
    /// Requests per token (tokens created with their own `--rate-limit` keep theirs):
    /// `N/s`, `N/min`, `N/h`, or `off` (or 0) for unlimited. Over it: 429 with Retry-After.
    /// The default is above what the engine accepts on two cores, so it never caps one
    /// integration; set a lower one for shared setups.
    #[arg(long, value_name = "RATE", default_value = "20000/s")]
    rate_limit: String,
    /// Requests a token may send at once before the rate applies (default: three seconds'
    /// worth of the rate, 60000 at 20000/s).
    #[arg(long, value_name = "N")]
    rate_burst: Option<f64>,
    /// `text` (coloured only on a terminal) or `json` (one object per line, for log
    /// shippers). `RUST_LOG` sets the level (default `info`).
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// SQLite durability: `normal` survives a crash of the process (kill -9) but an OS
    /// crash or power loss can lose the last acknowledged writes; `full` syncs every commit
    /// to disk before answering (see docs/RELIABILITY.md for the measured cost).
    #[arg(long, value_enum, default_value_t = SynchronousArg::Normal)]
    sqlite_synchronous: SynchronousArg,
    /// Seconds without a heartbeat after which a background worker (writer, runs, timers,
    /// outbox) counts as stalled and `/readyz` answers 503 naming it.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    worker_stall_after: u64,
    /// Days of record history kept: every state a record had, so that a backtest reads
    /// each record as it was at its event. A backtest can start at most this many days
    /// back; older history is pruned hourly (each record keeps its state at the cutoff).
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3_650))]
    record_history_days: u64,
    /// Automation log entries kept per record (`GET /records/{object}/{id}/automation-log`;
    /// the newest are kept); 0 turns the log off.
    #[arg(long, value_name = "N", default_value_t = AutomationLogConfig::default().per_record, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    automation_log_per_record: u32,
    /// Days an automation log entry is kept (swept every 10 minutes).
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3_650))]
    automation_log_retention_days: u64,
}

/// `--sqlite-synchronous` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SynchronousArg {
    Normal,
    Full,
}

impl From<SynchronousArg> for Synchronous {
    fn from(arg: SynchronousArg) -> Self {
        match arg {
            SynchronousArg::Normal => Synchronous::Normal,
            SynchronousArg::Full => Synchronous::Full,
        }
    }
}

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = ServeConfig {
        addr: args.addr,
        database_url: args.database_url.clone(),
        smtp_url: args.smtp_url.clone(),
        slack_webhook_url: args.slack_webhook_url.clone(),
        webhook_allow_private: args.webhook_allow_private,
        outbox_lease: args.outbox_lease,
        plugin_http_allow: args.plugin_http_allow.clone(),
        plugin_upload_limit: args.plugin_upload_limit,
        admin_token: std::env::var("AUTOMATIONS_ADMIN_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty()),
        output_caps: OutputCaps {
            text_param_bytes: args.max_text_param_bytes,
            payload_param_bytes: args.max_payload_param_bytes,
            step_param_bytes: args.max_step_param_bytes,
        },
        rate_limit: parse_rate_limit(&args.rate_limit, args.rate_burst)
            .map_err(|e| anyhow::anyhow!("invalid --rate-limit/--rate-burst: {e}"))?,
        sqlite_synchronous: args.sqlite_synchronous.into(),
        worker_stall_after: std::time::Duration::from_secs(args.worker_stall_after),
        record_history: std::time::Duration::from_secs(args.record_history_days * 86_400),
        automation_log: AutomationLogConfig {
            per_record: args.automation_log_per_record,
            retention: std::time::Duration::from_secs(args.automation_log_retention_days * 86_400),
            ..AutomationLogConfig::default()
        },
    };
    logging::init(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config))?;
    Ok(ExitCode::SUCCESS)
}
