//! PostgreSQL for tests: each test gets a fresh schema of the database named by
//! `AUTOMATIONS_TEST_POSTGRES_URL`, dropped when its guard goes. Without the variable the
//! test prints a notice and does nothing (`.ci/run` always sets it).
//!
//! With `AUTOMATIONS_TEST_DRIVER=postgres` every engine of the suite runs on PostgreSQL:
//! the SQLite path a test would use names a schema instead (the same path, from any
//! process, the same schema; the path is kept as the schema's comment, and a schema whose
//! directory is gone is dropped by the next test process).

use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use automations_runtime::store::{AnyStore, PgConfig, PgStore, SqliteConfig, SqliteStore};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgPoolOptions;

pub const URL_VAR: &str = "AUTOMATIONS_TEST_POSTGRES_URL";
pub const DRIVER_VAR: &str = "AUTOMATIONS_TEST_DRIVER";

/// The run lease of the suite's PostgreSQL nodes: short, so that a test standing for a
/// crashed process waits little for another node to take its runs over.
pub const RUN_LEASE: Duration = Duration::from_secs(1);

/// Stands for the time a crashed node's leases take to lapse on PostgreSQL (SQLite has
/// one process, which takes every `running` run back when it reopens).
pub async fn let_leases_lapse() {
    if std::env::var(DRIVER_VAR).is_ok_and(|d| d == "postgres") {
        tokio::time::sleep(RUN_LEASE + Duration::from_millis(300)).await;
    }
}

/// The store of the database at `path`: the SQLite file, or with
/// `AUTOMATIONS_TEST_DRIVER=postgres` the PostgreSQL schema standing for it.
pub async fn store_at(path: &Path) -> AnyStore {
    if std::env::var(DRIVER_VAR).is_ok_and(|d| d == "postgres") {
        let url =
            url().expect("AUTOMATIONS_TEST_DRIVER=postgres needs AUTOMATIONS_TEST_POSTGRES_URL");
        AnyStore::Postgres(schema_at(&url, path).await)
    } else {
        AnyStore::Sqlite(SqliteStore::open(&SqliteConfig::file(path)).await.unwrap())
    }
}

async fn schema_at(url: &str, path: &Path) -> PgStore {
    static SWEPT: OnceLock<()> = OnceLock::new();
    if SWEPT.set(()).is_ok() {
        sweep(url).await;
    }
    let mut hasher = std::hash::DefaultHasher::new();
    path.hash(&mut hasher);
    let name = format!("rt_{:016x}", hasher.finish());
    let mut config = PgConfig::from_url(url);
    config.schema = Some(name.clone());
    config.application_name = Some(name.clone());
    config.readers = 2;
    config.run_lease = RUN_LEASE;
    let store = PgStore::open(&config).await.unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let comment = path.display().to_string().replace('\'', "''");
    let sql = format!("COMMENT ON SCHEMA \"{name}\" IS '{comment}'");
    sqlx::query(AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    store
}

/// Drops the `rt_` schemas whose test directory no longer exists.
async fn sweep(url: &str) {
    let Ok(pool) = PgPoolOptions::new().max_connections(1).connect(url).await else {
        return;
    };
    let schemas: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT nspname::text, obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname LIKE 'rt\\_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap_or_default();
    for (name, path) in schemas {
        // No comment yet: a schema being made right now; keep it.
        let gone = path.is_some_and(|p| Path::new(&p).parent().is_none_or(|d| !d.exists()));
        if gone {
            let _ = sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1")
                .bind(&name)
                .execute(&pool)
                .await;
            let sql = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
            let _ = sqlx::query(AssertSqlSafe(sql)).execute(&pool).await;
        }
    }
    pool.close().await;
}

/// The test database's URL, or `None` (with a notice) when PostgreSQL tests are off.
pub fn url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("notice: {URL_VAR} is not set: this PostgreSQL test is skipped");
            None
        }
    }
}

/// Drops its schema (and every table in it) when dropped.
pub struct FreshSchema {
    url: String,
    pub name: String,
}

impl FreshSchema {
    pub fn new(url: &str) -> FreshSchema {
        FreshSchema {
            url: url.to_string(),
            name: format!("t_{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// A store on this schema (created and migrated on open).
    pub fn config(&self) -> PgConfig {
        let mut config = PgConfig::from_url(&self.url);
        config.schema = Some(self.name.clone());
        config.application_name = Some(self.name.clone());
        config.readers = 2;
        config
    }
}

impl Drop for FreshSchema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: use a thread with its own.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let pool = PgPoolOptions::new().max_connections(1).connect(&url).await?;
                // A transaction the test dropped as its runtime ended may still hold
                // locks: end this schema's connections first.
                sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1")
                    .bind(&name)
                    .execute(&pool)
                    .await?;
                let sql = format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE");
                sqlx::query(AssertSqlSafe(sql)).execute(&pool).await?;
                pool.close().await;
                Ok::<_, sqlx::Error>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test schema {}: {e}", self.name);
        }
    }
}

/// A migrated store on a fresh schema, or `None` when PostgreSQL tests are off.
pub async fn open_pg() -> Option<(PgStore, FreshSchema)> {
    let url = url()?;
    let schema = FreshSchema::new(&url);
    let store = PgStore::open(&schema.config()).await.unwrap();
    Some((store, schema))
}
