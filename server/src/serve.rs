//! `automations serve`, `token create` and `migrate`: opening the database, first-start
//! bootstrap (workspace `default` and an admin token), the workers, the HTTP listener and
//! graceful shutdown on SIGTERM or Ctrl-C.
//!
//! The binary's CLI modules call these; nothing here parses arguments or prints anything
//! but the one-time admin token and the URL to open.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use automations_host_api::net::{HttpClient, HttpConfig, IpNet};
use automations_host_api::{EngineConfig as PluginEngineConfig, LimitPolicy, PluginEngine};

use automations_runtime::model::{Actor, ApiToken, RateLimit};
use automations_runtime::outbox::{OutboxConfig, SmtpConfig};
use automations_runtime::record_log::AutomationLogConfig;
use automations_runtime::store::Store;
use automations_runtime::store::{AnyStore, SqliteConfig, StoreConfig, Synchronous};
use automations_runtime::{
    EngineConfig, EngineParts, NewToken, OutputCaps, RuntimeError, create_token_in,
    ensure_workspace_in, revoke_token_in,
};

use crate::auth::Scope;
use crate::definitions::{Definitions, SchemaChangeError};
use crate::plugins::{HostRunner, PluginRegistry};
use crate::state::{ApiConfig, AppState, Engine};

/// Everything `automations serve` is configured with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub database_url: String,
    pub smtp_url: Option<String>,
    pub slack_webhook_url: Option<String>,
    pub webhook_allow_private: bool,
    /// `--outbox-lease`: how long a claimed outbox item is this node's before another
    /// node may deliver it again (the default: `OutboxConfig`'s).
    pub outbox_lease: Option<std::time::Duration>,
    /// `--plugin-http-allow NET`: address blocks plugin `http` may reach despite the SSRF
    /// policy (IPs or CIDRs).
    pub plugin_http_allow: Vec<String>,
    /// `AUTOMATIONS_ADMIN_TOKEN`: the admin token of workspace `default` at first start.
    pub admin_token: Option<String>,
    /// `--plugin-upload-limit`: the largest plugin upload, in bytes.
    pub plugin_upload_limit: usize,
    /// `--max-text-param-bytes`, `--max-payload-param-bytes`, `--max-step-param-bytes`.
    pub output_caps: OutputCaps,
    /// `--rate-limit`, `--rate-burst`: the limit of tokens without one of their own.
    pub rate_limit: RateLimit,
    /// `--sqlite-synchronous`: whether a commit waits for the disk (see `Synchronous`).
    pub sqlite_synchronous: Synchronous,
    /// `--worker-stall-after`: a worker without a heartbeat this long is reported stalled.
    pub worker_stall_after: Duration,
    /// `--record-history-days`: how long record history is kept (backtests read it).
    pub record_history: Duration,
    /// `--automation-log-per-record`, `--automation-log-retention-days`.
    pub automation_log: AutomationLogConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    // Transparent: the inner error is the whole message. With `{0}` and `#[from]` (which
    // makes it the source too) a chain printed with its causes said it twice ("token not
    // found: tok_x: token not found: tok_x").
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Config(String),
}

/// What `token create` needs.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub database_url: String,
    pub workspace: String,
    /// The token's label (audit log, `token list`).
    pub name: String,
    pub scopes: Vec<Scope>,
    /// Its own rate limit (`--rate-limit`); `None` follows the server's.
    pub rate_limit: Option<RateLimit>,
}

/// The name of the workspace created on first start.
pub const DEFAULT_WORKSPACE: &str = "default";

/// Opens the store the URL names (`postgres://` or `postgresql://`: PostgreSQL; else
/// SQLite), applying pending migrations.
async fn open_store(database_url: &str, synchronous: Synchronous) -> Result<AnyStore, ServeError> {
    let config = match StoreConfig::from_url(database_url) {
        StoreConfig::Sqlite(sqlite) => StoreConfig::Sqlite(SqliteConfig {
            synchronous,
            ..sqlite
        }),
        other => other,
    };
    AnyStore::open(&config)
        .await
        .map_err(|e| match (&config, e) {
            (StoreConfig::Postgres(_), RuntimeError::Database(e)) => ServeError::Config(format!(
                "cannot open the PostgreSQL database: {}",
                redact_url(&e.to_string(), database_url)
            )),
            (_, e) => ServeError::Runtime(e),
        })
}

/// `text` without the database URL's password (errors may quote the URL or a part of it).
fn redact_url(text: &str, database_url: &str) -> String {
    let text = automations_runtime::secrets::redact_text(text);
    match url_password(database_url) {
        Some(password) if !password.is_empty() => text.replace(password, "********"),
        _ => text,
    }
}

/// The password of `scheme://user:password@host/...`, if any.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split('/').next()?.rsplit_once('@')?.0;
    Some(userinfo.split_once(':')?.1)
}

/// Opens the database (applying migrations) and builds the engine with the compiler hooks.
pub async fn open_engine(
    database_url: &str,
    outbox: OutboxConfig,
) -> Result<(Engine, Definitions), ServeError> {
    let (engine, definitions, _) = open_engine_with_plugins(database_url, outbox).await?;
    Ok((engine, definitions))
}

/// The process-wide plugin engine (one wasmtime engine, epoch ticker and instance pool),
/// made when the first plugin is prepared (an upload, or a stored one at start): see
/// `plugins::registry`. Its limits are [`plugin_limits`].
fn plugin_engine() -> Result<PluginEngine, String> {
    static ENGINE: OnceLock<PluginEngine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine.clone());
    }
    let engine = PluginEngine::new(PluginEngineConfig::default())
        .map_err(|e| format!("cannot start the plugin engine: {e}"))?;
    Ok(ENGINE.get_or_init(|| engine).clone())
}

/// The limit policy of [`plugin_engine`], known without making it.
fn plugin_limits() -> LimitPolicy {
    PluginEngineConfig::default().limits
}

/// Plugin http: the SSRF-safe client. `allow_private` (`--webhook-allow-private`) also
/// permits loopback, as it does for webhooks; `extra` (`--plugin-http-allow`) permits the
/// given blocks.
fn plugin_http(allow_private: bool, extra: &[IpNet]) -> HttpClient {
    let mut allow: Vec<IpNet> = if allow_private {
        ["127.0.0.0/8", "::1/128"]
            .iter()
            .filter_map(|net| net.parse::<IpNet>().ok())
            .collect()
    } else {
        Vec::new()
    };
    allow.extend_from_slice(extra);
    HttpClient::new(HttpConfig {
        allow,
        ..HttpConfig::default()
    })
}

/// Parses `--plugin-http-allow` values (an IP is its own /32 or /128 block).
pub fn parse_plugin_http_allow(values: &[String]) -> Result<Vec<IpNet>, ServeError> {
    values
        .iter()
        .map(|v| {
            v.parse::<IpNet>().map_err(|_| {
                ServeError::Config(format!(
                    "invalid --plugin-http-allow `{v}`: expected an IP or a CIDR block"
                ))
            })
        })
        .collect()
}

/// How the engine is opened: outbox delivery and what plugin `http` may reach.
#[derive(Debug, Clone, Default)]
pub struct OpenConfig {
    pub outbox: OutboxConfig,
    /// Extra address blocks for plugin `http` (`--plugin-http-allow`).
    pub plugin_http_allow: Vec<IpNet>,
    /// Byte caps on rendered step params.
    pub output_caps: OutputCaps,
    /// SQLite's `PRAGMA synchronous` (`--sqlite-synchronous`).
    pub sqlite_synchronous: Synchronous,
    /// `--worker-stall-after` (`None`: the engine's default).
    pub worker_stall_after: Option<Duration>,
    /// `--record-history-days` (`None`: the engine's default, 30 days).
    pub record_history: Option<Duration>,
    /// The automation log per record (cap, retention).
    pub automation_log: AutomationLogConfig,
}

/// [`open_engine`] with the plugin runner wired in; returns the registry the API uploads to.
pub async fn open_engine_with_plugins(
    database_url: &str,
    outbox: OutboxConfig,
) -> Result<(Engine, Definitions, Arc<PluginRegistry>), ServeError> {
    let config = OpenConfig {
        outbox,
        ..OpenConfig::default()
    };
    open_engine_with(database_url, config).await
}

/// [`open_engine_with_plugins`] with every setting.
pub async fn open_engine_with(
    database_url: &str,
    open: OpenConfig,
) -> Result<(Engine, Definitions, Arc<PluginRegistry>), ServeError> {
    let OpenConfig {
        outbox,
        plugin_http_allow,
        output_caps,
        sqlite_synchronous,
        worker_stall_after,
        record_history,
        automation_log,
    } = open;
    let store = open_store(database_url, sqlite_synchronous).await?;
    // Each workspace's custom fields, from the database.
    let definitions = Definitions::load(&store).await.map_err(schema_failure)?;
    let registry = Arc::new(PluginRegistry::new(
        plugin_engine,
        plugin_limits(),
        store.clone(),
    ));
    let loaded = registry
        .load()
        .await
        .map_err(|e| ServeError::Config(format!("cannot load the stored plugins: {e}")))?;
    tracing::debug!(versions = loaded, "plugins loaded");
    let runner = Arc::new(HostRunner::new(
        registry.clone(),
        plugin_http(outbox.allow_private, &plugin_http_allow),
    ));
    let defaults = EngineConfig::default();
    let config = EngineConfig {
        outbox,
        output_caps,
        stall_after: worker_stall_after.unwrap_or(defaults.stall_after),
        record_history: record_history.unwrap_or(defaults.record_history),
        automation_log,
        ..defaults
    };
    let parts = EngineParts {
        store,
        config,
        schema: definitions.schemas(),
        compiler: definitions.compiler(),
        plugins: Some(runner.clone()),
    };
    let engine = Engine::new(parts).await?;
    runner.attach(engine.clone());
    Ok((engine, definitions, registry))
}

fn schema_failure(e: SchemaChangeError) -> ServeError {
    match e {
        SchemaChangeError::Store(e) => ServeError::Runtime(e),
        other => ServeError::Config(format!("custom schema: {other}")),
    }
}

/// Where servers before per-workspace schemas kept the (server-wide) custom fields.
pub fn legacy_schema_file(database_url: &str) -> Option<PathBuf> {
    let StoreConfig::Sqlite(SqliteConfig { path, .. }) = StoreConfig::from_url(database_url) else {
        return None;
    };
    let path = path?;
    Some(PathBuf::from(format!("{}.schema.json", path.display())))
}

/// Imports the old server-wide custom schema file (`<database>.schema.json`), when there
/// is one, into workspace `default` once; the file is renamed `*.imported`. Call after
/// [`bootstrap`]. True when a file was imported.
pub async fn import_legacy_schema(
    engine: &Engine,
    definitions: &Definitions,
    database_url: &str,
) -> Result<bool, ServeError> {
    let Some(file) = legacy_schema_file(database_url) else {
        return Ok(false);
    };
    if !file.exists() {
        return Ok(false);
    }
    let workspace = engine.ensure_workspace(DEFAULT_WORKSPACE).await?;
    definitions
        .import_legacy_file(engine.store(), &workspace.id, &file)
        .await
        .map_err(schema_failure)
}

/// Applies the migrations and closes the database.
pub async fn migrate(database_url: &str, synchronous: Synchronous) -> Result<(), ServeError> {
    let store = open_store(database_url, synchronous).await?;
    store.close().await;
    Ok(())
}

/// Creates a token (and its workspace when missing); returns it and its text. Opens the
/// store only (never an engine: that would re-queue the runs of a server sharing the
/// database).
pub async fn create_token(request: &TokenRequest) -> Result<(ApiToken, String), ServeError> {
    let store = open_store(&request.database_url, Synchronous::default()).await?;
    let created = async {
        let workspace = ensure_workspace_in(&store, &request.workspace).await?;
        let new = NewToken {
            workspace_id: workspace.id,
            name: request.name.clone(),
            scopes: scope_strings(&request.scopes),
            value: None,
            rate_limit: request.rate_limit,
        };
        create_token_in(&store, &new, &Actor::cli()).await
    }
    .await;
    store.close().await;
    Ok(created?)
}

/// The tokens of a workspace (revoked ones included), oldest first.
pub async fn list_tokens(database_url: &str, workspace: &str) -> Result<Vec<ApiToken>, ServeError> {
    let store = open_store(database_url, Synchronous::default()).await?;
    let listed = match store.workspace_by_name(workspace).await {
        Ok(Some(w)) => store.tokens(Some(&w.id)).await,
        Ok(None) => Err(RuntimeError::not_found("workspace", workspace)),
        Err(e) => Err(e),
    };
    store.close().await;
    Ok(listed?)
}

/// Revokes a token of a workspace by its id (`tok_...`, as `token create` and `token list`
/// print it); once this returns, its next request to any running server is a 401.
pub async fn revoke_token(database_url: &str, workspace: &str, id: &str) -> Result<(), ServeError> {
    let store = open_store(database_url, Synchronous::default()).await?;
    let revoked = match store.workspace_by_name(workspace).await {
        Ok(Some(w)) => revoke_token_in(&store, &w.id, id, &Actor::cli()).await,
        Ok(None) => Err(RuntimeError::not_found("workspace", workspace)),
        Err(e) => Err(e),
    };
    store.close().await;
    revoked?;
    // A running server may answer from its token cache for a bounded time after its last
    // read (`token_cache`): once that has passed, every server has read the revoke.
    tokio::time::sleep(2 * crate::token_cache::TOKEN_CACHE_MAX_AGE).await;
    Ok(())
}

fn scope_strings(scopes: &[Scope]) -> Vec<String> {
    scopes.iter().map(|s| s.as_str().to_string()).collect()
}

/// First start (workspace `default` does not exist yet): creates it and its admin token,
/// `admin_token` (`AUTOMATIONS_ADMIN_TOKEN`) when given, else a random one, returned to be
/// shown once. On every later start `admin_token` is ignored (DESIGN §11): a value that is
/// not a live token of the database is logged as ignored, with how to rotate.
pub async fn bootstrap(
    engine: &Engine,
    admin_token: Option<&str>,
) -> Result<Option<String>, ServeError> {
    let first_start = engine
        .store()
        .workspace_by_name(DEFAULT_WORKSPACE)
        .await?
        .is_none();
    if !first_start {
        if let Some(token) = admin_token
            && engine.verify_token(token).await?.is_none()
        {
            tracing::warn!(
                "AUTOMATIONS_ADMIN_TOKEN is ignored: it is honoured at first start only and \
                 is not a token of this database. To rotate the admin token run \
                 `automations token create --workspace default --scopes admin`, then \
                 `automations token revoke ID` for the old one (`automations token list` \
                 shows the ids)"
            );
        }
        return Ok(None);
    }
    let workspace = engine.ensure_workspace(DEFAULT_WORKSPACE).await?;
    let new = NewToken {
        workspace_id: workspace.id,
        name: "admin".into(),
        scopes: scope_strings(&[Scope::Admin]),
        value: admin_token.map(str::to_string),
        rate_limit: None,
    };
    let (_, plain) = engine.create_token(&new, &Actor::system()).await?;
    // A token given by the environment is never echoed.
    Ok(admin_token.is_none().then_some(plain))
}

/// The outbox settings from the command line.
pub fn outbox_config(config: &ServeConfig) -> Result<OutboxConfig, ServeError> {
    let smtp = config.smtp_url.as_deref().map(parse_smtp_url).transpose()?;
    Ok(OutboxConfig {
        smtp,
        slack_webhook_url: config.slack_webhook_url.clone(),
        allow_private: config.webhook_allow_private,
        lease: config.outbox_lease.unwrap_or(OutboxConfig::default().lease),
        ..OutboxConfig::default()
    })
}

/// `--outbox-lease`: a duration in whole seconds (`30s`, `30`) or milliseconds (`500ms`),
/// at least 1 s.
pub fn parse_lease(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (digits, millis) = match t.strip_suffix("ms") {
        Some(d) => (d, true),
        None => (t.strip_suffix('s').unwrap_or(t), false),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: expected e.g. 30s or 1500ms"))?;
    let d = if millis {
        std::time::Duration::from_millis(n)
    } else {
        std::time::Duration::from_secs(n)
    };
    if d < std::time::Duration::from_secs(1) {
        return Err(format!(
            "`{text}` is too short: the lease must be at least 1s"
        ));
    }
    Ok(d)
}

/// `smtp://[user:pass@]host[:port][?from=addr]` (plain, for local relays) or `smtps://...`.
pub fn parse_smtp_url(url: &str) -> Result<SmtpConfig, ServeError> {
    let bad = || {
        ServeError::Config(format!(
            "invalid --smtp-url `{}`: expected smtp://[user:pass@]host[:port]",
            automations_runtime::secrets::redact_text(url)
        ))
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let insecure = match scheme {
        "smtp" => true,
        "smtps" => false,
        _ => return Err(bad()),
    };
    let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = authority.trim_end_matches('/');
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((c, h)) => (Some(c), h),
        None => (None, authority),
    };
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
        None => (host_port, if insecure { 25 } else { 465 }),
    };
    if host.is_empty() {
        return Err(bad());
    }
    let (username, password) = match credentials.map(|c| c.split_once(':').unwrap_or((c, ""))) {
        Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
        None => (None, None),
    };
    let from = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("from="))
        .map(str::to_string)
        .unwrap_or_else(|| "automations@localhost".to_string());
    Ok(SmtpConfig {
        host: host.to_string(),
        port,
        username,
        password,
        from,
        insecure,
    })
}

/// Parses a size such as `64MiB`, `512KiB`, `1GiB` or a plain number of bytes.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let unit_bytes: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1 << 10,
        "m" | "mib" | "mb" => 1 << 20,
        "g" | "gib" | "gb" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use bytes, KiB, MiB or GiB"
            ));
        }
    };
    let count: usize = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size: expected e.g. 64MiB or 1048576"))?;
    match count.checked_mul(unit_bytes) {
        Some(0) => Err("the size must be greater than 0".into()),
        Some(bytes) => Ok(bytes),
        None => Err(format!("`{text}` is too large")),
    }
}

/// Serves until SIGTERM or Ctrl-C, then drains requests and stops the workers.
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    let open = OpenConfig {
        outbox: outbox_config(&config)?,
        plugin_http_allow: parse_plugin_http_allow(&config.plugin_http_allow)?,
        output_caps: config.output_caps,
        sqlite_synchronous: config.sqlite_synchronous,
        worker_stall_after: Some(config.worker_stall_after),
        record_history: Some(config.record_history),
        automation_log: config.automation_log.clone(),
    };
    let (engine, definitions, plugins) = open_engine_with(&config.database_url, open).await?;
    if let Some(token) = bootstrap(&engine, config.admin_token.as_deref()).await? {
        println!("admin token for workspace `{DEFAULT_WORKSPACE}` (shown once, store it now):");
        println!("{token}");
    }
    if import_legacy_schema(&engine, &definitions, &config.database_url).await? {
        tracing::info!("imported the old server-wide custom schema into workspace `default`");
    }
    let interrupted = engine.interrupt_backtests().await?;
    if interrupted > 0 {
        tracing::info!(
            backtests = interrupted,
            "ended backtests left unfinished by a previous process"
        );
    }
    let workers = engine.start();
    let api = ApiConfig {
        plugin_upload_limit: config.plugin_upload_limit,
        rate_limit: config.rate_limit,
        ..ApiConfig::default()
    };
    let state = AppState::with_plugins(engine.clone(), definitions, api, plugins);
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let local = listener.local_addr()?;
    println!("listening on http://{local}");
    // `--sqlite-synchronous` means nothing on PostgreSQL, so the line names it only on SQLite.
    let sqlite = !automations_runtime::store::PgConfig::accepts(&config.database_url);
    let sqlite_synchronous = sqlite.then(|| config.sqlite_synchronous.as_str());
    tracing::info!(url = %format!("http://{local}"), database = %automations_runtime::secrets::redact_text(&config.database_url), sqlite_synchronous, "automations API ready");
    let app = crate::app(state.clone());
    let shutdown_state = state.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            shutdown_state.set_ready(false);
            tracing::info!("shutting down");
        })
        .await?;
    workers.shutdown().await;
    engine.store().close().await;
    Ok(())
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_parse() {
        let c = parse_smtp_url("smtp://u:p@mail.local:2525?from=a@b.c").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.insecure),
            ("mail.local", 2525, true)
        );
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(c.from, "a@b.c");
        assert_eq!(parse_smtp_url("smtps://mail.local").unwrap().port, 465);
        assert!(parse_smtp_url("http://x").is_err());
    }

    #[test]
    fn leases_parse_in_seconds_or_milliseconds() {
        use std::time::Duration;
        assert_eq!(parse_lease("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_lease("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_lease("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_lease("500ms").unwrap_err().contains("too short"));
        assert!(parse_lease("soon").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512 KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(
            parse_size("12 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
    }
}
