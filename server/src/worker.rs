//! `automations worker --database-url postgres://...`: a node without HTTP. It runs the
//! engine's run, timer and outbox workers on the shared database next to any number of
//! `serve` and `worker` processes (DESIGN §10), follows their changes (`engine::follow`)
//! and stops on SIGTERM or Ctrl-C, finishing the transaction in hand.

use automations_runtime::OutputCaps;
use automations_runtime::outbox::OutboxConfig;
use automations_runtime::store::{PgConfig, Synchronous};

use crate::serve::{
    OpenConfig, ServeError, open_engine_with, parse_plugin_http_allow, parse_smtp_url,
    shutdown_signal,
};

/// What a worker node is started with (`automations worker` flags).
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub database_url: String,
    pub smtp_url: Option<String>,
    pub slack_webhook_url: Option<String>,
    pub webhook_allow_private: bool,
    pub outbox_lease: Option<std::time::Duration>,
    /// `--plugin-http-allow NET` (IPs or CIDRs).
    pub plugin_http_allow: Vec<String>,
    pub output_caps: OutputCaps,
}

/// Runs the node until SIGTERM or Ctrl-C.
pub async fn work(config: WorkerConfig) -> Result<(), ServeError> {
    if !PgConfig::accepts(&config.database_url) {
        return Err(ServeError::Config(
            "automations worker shares a PostgreSQL database with other nodes: give \
             --database-url postgres://...; an SQLite file belongs to one `serve` process"
                .into(),
        ));
    }
    let outbox = OutboxConfig {
        smtp: config.smtp_url.as_deref().map(parse_smtp_url).transpose()?,
        slack_webhook_url: config.slack_webhook_url.clone(),
        allow_private: config.webhook_allow_private,
        lease: config.outbox_lease.unwrap_or(OutboxConfig::default().lease),
        ..OutboxConfig::default()
    };
    let open = OpenConfig {
        outbox,
        plugin_http_allow: parse_plugin_http_allow(&config.plugin_http_allow)?,
        output_caps: config.output_caps,
        sqlite_synchronous: Synchronous::default(),
        // A worker answers no `/readyz`: the engine's default stall threshold. Record
        // history and the automation log keep their default retention and cap here (the
        // shortest retention of the nodes is the one that holds).
        ..OpenConfig::default()
    };
    let (engine, _definitions, _plugins) = open_engine_with(&config.database_url, open).await?;
    let workers = engine.start();
    println!("worker ready");
    tracing::info!(
        database = %automations_runtime::secrets::redact_text(&config.database_url),
        "automations worker ready"
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    workers.shutdown().await;
    engine.store().close().await;
    Ok(())
}
