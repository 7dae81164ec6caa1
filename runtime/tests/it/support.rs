//! Shared test support: the CRM schema, an engine on a real database, a local HTTP
//! sink that records requests, and the real compiler front end.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use automations_compiler::schema::Schema;
use automations_runtime::compiler_glue::CompilerFrontend;
use automations_runtime::hooks::{DefinitionCompiler, PluginRunner};
use automations_runtime::model::{Notification, Record, Run, Workspace};
use automations_runtime::schema::{SameSchema, SchemaView};
use automations_runtime::store::AnyStore;
use automations_runtime::{EngineConfig, EngineParts, NewRecord};

pub mod pg;

pub const SEED: &str = r#"{"name":"Auto-assign high-priority cases","trigger":{"event":"case.created","conditions":{"priority":"critical"}},"actions":[{"type":"assign_to_queue","params":{"queue_id":"q_escalations"}},{"type":"send_notification","params":{"channel":"slack","message":"Critical case created"}}],"status":"active"}"#;

pub fn seed() -> Value {
    serde_json::from_str(SEED).unwrap()
}

pub fn crm_schema() -> Arc<dyn SchemaView> {
    Arc::new(Schema::builtin())
}

pub fn quick_config() -> EngineConfig {
    let mut c = EngineConfig::default();
    c.outbox.backoff_base = Duration::from_millis(5);
    c.outbox.backoff_cap = Duration::from_millis(50);
    c.outbox.allow_private = true;
    c.outbox.poll_interval = Duration::from_millis(20);
    c.poll_interval = Duration::from_millis(20);
    // Well inside `pg::RUN_LEASE`: a live node keeps its runs.
    c.lease_renewal = Duration::from_millis(200);
    c
}

/// The engine of the tests: SQLite files, or PostgreSQL schemas with
/// `AUTOMATIONS_TEST_DRIVER=postgres` (see `pg.rs`).
pub type Engine = automations_runtime::Engine<AnyStore>;

pub async fn open_engine(path: &Path, config: EngineConfig) -> Engine {
    open_engine_with(path, config, None).await
}

/// An engine on the database at `path` (the SQLite file, or the PostgreSQL schema that
/// stands for it) with a plugin runner.
pub async fn open_engine_with(
    path: &Path,
    config: EngineConfig,
    plugins: Option<Arc<dyn PluginRunner>>,
) -> Engine {
    let store = pg::store_at(path).await;
    Engine::new(EngineParts {
        store,
        config,
        schema: SameSchema::shared(crm_schema()),
        compiler: compiler(),
        plugins,
    })
    .await
    .unwrap()
}

/// A fresh engine on a temporary SQLite file, with the `default` workspace. Keeps the
/// directory alive as long as the fixture.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    pub ws: Workspace,
}

impl Fixture {
    /// With [`quick_config`] and no plugin runner.
    pub async fn new() -> Fixture {
        Fixture::with(quick_config(), None).await
    }

    pub async fn with(config: EngineConfig, plugins: Option<Arc<dyn PluginRunner>>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let engine = open_engine_with(&dir.path().join("a.db"), config, plugins).await;
        let ws = engine.ensure_workspace("default").await.unwrap();
        Fixture { dir, engine, ws }
    }

    /// The database file (to reopen it as a restarted process).
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("a.db")
    }

    /// Creates a record in the workspace (raising its `created` event).
    pub async fn create(&self, object: &str, fields: Value) -> Record {
        self.engine
            .create_record(
                &self.ws.id,
                object,
                NewRecord {
                    id: None,
                    fields: obj(fields),
                },
            )
            .await
            .unwrap()
    }

    /// The workspace's runs (first page, newest first).
    pub async fn runs(&self) -> Vec<Run> {
        self.engine
            .runs(&self.ws.id, &Default::default())
            .await
            .unwrap()
            .items
    }

    /// Notifications sent to `user`.
    pub async fn notifications(&self, user: &str) -> Vec<Notification> {
        self.engine
            .notifications(&self.ws.id, Some(user))
            .await
            .unwrap()
    }
}

pub fn compiler() -> Arc<dyn DefinitionCompiler> {
    Arc::new(CompilerFrontend::new(Arc::new(Schema::builtin())))
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

// ---------------------------------------------------------------------------------------
// A request-recording HTTP sink.

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Clone)]
pub struct HttpSink {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl HttpSink {
    /// Answers 200, except paths starting `/status/NNN` which answer NNN; paths starting
    /// `/sleep/MS` answer after MS milliseconds.
    pub async fn start() -> HttpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let rec = rec.clone();
                tokio::spawn(async move {
                    let (rd, mut wr) = sock.into_split();
                    let mut rd = BufReader::new(rd);
                    loop {
                        let mut line = String::new();
                        if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let method = parts.next().unwrap_or("").to_string();
                        let path = parts.next().unwrap_or("").to_string();
                        let mut headers = HashMap::new();
                        loop {
                            let mut h = String::new();
                            if rd.read_line(&mut h).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':') {
                                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                            }
                        }
                        let len: usize = headers
                            .get("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        let mut body = vec![0u8; len];
                        if rd.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        // `/sleep/MS...` answers after MS milliseconds (a slow receiver).
                        if let Some(ms) = path
                            .strip_prefix("/sleep/")
                            .and_then(|s| s.split('/').next())
                            .and_then(|s| s.parse().ok())
                        {
                            tokio::time::sleep(Duration::from_millis(ms)).await;
                        }
                        let status: u16 = path
                            .strip_prefix("/status/")
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(200);
                        rec.lock().unwrap().push(Received {
                            method,
                            path,
                            headers,
                            body: String::from_utf8_lossy(&body).into(),
                        });
                        let resp = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\nok");
                        if wr.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        HttpSink { url, received }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
