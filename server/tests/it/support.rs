//! Shared test support: an app on a temporary database (`support/db.rs`), tokens, and request helpers
//! that drive the router in-process with `tower::ServiceExt::oneshot`.

use automations_server::serve::{OpenConfig, bootstrap, open_engine_with};
use automations_server::state::Engine;
use automations_server::{ApiConfig, AppState, app};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

pub const ADMIN: &str = "test-admin-token";

pub const SEED: &str = r#"{
  "name": "Auto-assign high-priority cases",
  "trigger": { "event": "case.created", "conditions": { "priority": "critical" } },
  "actions": [
    { "type": "assign_to_queue", "params": { "queue_id": "q_escalations" } },
    { "type": "send_notification", "params": { "channel": "slack", "message": "Critical case created" } }
  ],
  "status": "active"
}"#;

pub mod db;

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    /// The SQLite file (unused on PostgreSQL).
    pub db_path: std::path::PathBuf,
    db: db::TestDb,
}

/// What a call answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    /// The `error.code` of an error body (and checks the body has the §12 shape).
    pub fn error_code(&self) -> &str {
        let error = &self.body["error"];
        assert!(
            error["message"].is_string(),
            "error body without message: {}",
            self.text
        );
        assert!(
            error["diagnostics"].is_array(),
            "error body without diagnostics: {}",
            self.text
        );
        error["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {}", self.text))
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_config(ApiConfig::default()).await
    }

    pub async fn with_config(config: ApiConfig) -> TestApp {
        TestApp::open(db::TestDb::new().await, config, OpenConfig::default()).await
    }

    /// An app whose engine is opened with `open` (engine settings such as the automation
    /// log's cap).
    pub async fn with_open_config(open: OpenConfig) -> TestApp {
        TestApp::open(db::TestDb::new().await, ApiConfig::default(), open).await
    }

    pub fn database_url(&self) -> String {
        self.db.url()
    }

    /// False when the suite runs on PostgreSQL (`AUTOMATIONS_TEST_DRIVER=postgres`):
    /// tests of SQLite files only check this.
    pub fn on_sqlite(&self) -> bool {
        self.db.is_sqlite()
    }

    async fn open(db: db::TestDb, config: ApiConfig, open: OpenConfig) -> TestApp {
        let db_path = db.path();
        let url = db.url();
        let (engine, definitions, plugins) = open_engine_with(&url, open).await.unwrap();
        bootstrap(&engine, Some(ADMIN)).await.unwrap();
        let state = AppState::with_plugins(engine, definitions, config, plugins);
        let router = app(state.clone());
        TestApp {
            state,
            router,
            db_path,
            db,
        }
    }

    /// Closes this app's database and opens a new app on the same file, as a restarted
    /// server would (stored plugins, custom fields, automations and records come back).
    pub async fn reopen(self) -> TestApp {
        let TestApp { state, db, .. } = self;
        let config = state.config().clone();
        state.engine().store().close().await;
        drop(state);
        TestApp::open(db, config, OpenConfig::default()).await
    }

    pub fn engine(&self) -> &Engine {
        self.state.engine()
    }

    /// A token of `workspace` (created when missing) with `scopes`.
    pub async fn token(&self, workspace: &str, scopes: &[&str]) -> String {
        self.token_with(workspace, scopes, None).await
    }

    /// [`TestApp::token`] with its own rate limit (`None`: the server's).
    pub async fn token_with(
        &self,
        workspace: &str,
        scopes: &[&str],
        rate_limit: Option<automations_runtime::model::RateLimit>,
    ) -> String {
        let ws = self.engine().ensure_workspace(workspace).await.unwrap();
        let new = automations_runtime::NewToken {
            workspace_id: ws.id,
            name: "test".into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            value: None,
            rate_limit,
        };
        let actor = automations_runtime::model::Actor::system();
        self.engine().create_token(&new, &actor).await.unwrap().1
    }

    /// Runs queued runs and delivers the outbox until nothing is left to do.
    pub async fn settle(&self) {
        for _ in 0..10 {
            let runs = self.engine().run_until_idle().await.unwrap();
            let sent = self.engine().deliver_outbox_until_idle().await.unwrap();
            if runs == 0 && sent == 0 {
                break;
            }
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some((content_type, bytes)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, Some(ADMIN), None).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Answer {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, json: &Value) -> Answer {
        self.post_as(ADMIN, path, json).await
    }

    pub async fn post_as(&self, token: &str, path: &str, json: &Value) -> Answer {
        self.call(
            Method::POST,
            path,
            Some(token),
            Some(("application/json", json.to_string().into_bytes())),
        )
        .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> Answer {
        self.call(
            Method::POST,
            path,
            Some(ADMIN),
            Some((content_type, bytes.into())),
        )
        .await
    }

    pub async fn put(&self, path: &str, json: &Value) -> Answer {
        self.call(
            Method::PUT,
            path,
            Some(ADMIN),
            Some(("application/json", json.to_string().into_bytes())),
        )
        .await
    }

    pub async fn patch(&self, path: &str, json: &Value) -> Answer {
        self.call(
            Method::PATCH,
            path,
            Some(ADMIN),
            Some(("application/json", json.to_string().into_bytes())),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, Some(ADMIN), None).await
    }

    /// Creates the seed automation; returns its id.
    pub async fn create_seed(&self) -> String {
        let answer = self
            .post_raw("/api/v1/automations", "application/json", SEED)
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answer.body["id"].as_str().unwrap().to_string()
    }

    /// A sandbox copy of `live` (asserted made): the copy as answered.
    pub async fn sandbox_copy(&self, live: &str) -> Answer {
        let copy = self
            .post(
                &format!("/api/v1/automations/{live}/sandbox-copy"),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(copy.status, StatusCode::CREATED, "{}", copy.text);
        copy
    }

    /// Row counts of every table: a fingerprint of the database's content.
    pub async fn fingerprint(&self) -> Vec<(String, i64)> {
        if self.on_sqlite() {
            let mut conn = self.sqlite_connection().await;
            let tables = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
            row_counts::<sqlx::Sqlite>(&mut conn, tables).await
        } else {
            let mut conn = self.postgres_connection().await;
            let tables = "SELECT tablename::text FROM pg_tables \
                          WHERE schemaname = current_schema() ORDER BY tablename";
            row_counts::<sqlx::Postgres>(&mut conn, tables).await
        }
    }

    /// Runs one statement on this app's database from outside the server, as an operator
    /// with a SQL shell would; the database's error as text.
    pub async fn execute_outside(&self, statement: &str) -> Result<(), String> {
        let statement = sqlx::AssertSqlSafe(statement.to_string());
        let result = if self.on_sqlite() {
            let mut conn = self.sqlite_connection().await;
            sqlx::query(statement).execute(&mut conn).await.map(drop)
        } else {
            let mut conn = self.postgres_connection().await;
            sqlx::query(statement).execute(&mut conn).await.map(drop)
        };
        result.map_err(|e| e.to_string())
    }

    async fn sqlite_connection(&self) -> sqlx::SqliteConnection {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&self.db_path);
        sqlx::ConnectOptions::connect(&options).await.unwrap()
    }

    async fn postgres_connection(&self) -> sqlx::PgConnection {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&self.database_url())
            .await
            .unwrap()
    }
}

/// `(table, rows)` for every table `list` names, in its order.
async fn row_counts<DB>(conn: &mut DB::Connection, list: &str) -> Vec<(String, i64)>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'r> i64: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    use sqlx::Row;
    let tables: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(list.to_string()))
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect();
    let mut counts = Vec::new();
    for table in tables {
        let sql = format!("SELECT count(*) FROM \"{table}\"");
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        counts.push((table, n));
    }
    counts
}
