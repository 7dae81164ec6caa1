//! The database of a test app. SQLite: a file in a temporary directory. With
//! `AUTOMATIONS_TEST_DRIVER=postgres` (and `AUTOMATIONS_TEST_POSTGRES_URL`): a fresh
//! PostgreSQL database per app, dropped with it, so the whole in-process suite runs on
//! either driver. `postgres_url()` gives a fresh database to the PostgreSQL-only tests.

use std::path::PathBuf;

use sqlx::AssertSqlSafe;
use sqlx::postgres::PgPoolOptions;

pub const URL_VAR: &str = "AUTOMATIONS_TEST_POSTGRES_URL";
pub const DRIVER_VAR: &str = "AUTOMATIONS_TEST_DRIVER";

/// The server (PostgreSQL) URL of the tests, or `None` with a notice.
pub fn postgres_server() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("notice: {URL_VAR} is not set: this PostgreSQL test is skipped");
            None
        }
    }
}

/// True when the in-process suite is asked to run on PostgreSQL.
pub fn suite_on_postgres() -> bool {
    std::env::var(DRIVER_VAR).is_ok_and(|d| d == "postgres")
}

/// A database created for one test and dropped (with its connections) afterwards.
pub struct FreshDatabase {
    server: String,
    pub name: String,
    pub url: String,
}

impl FreshDatabase {
    pub async fn create(server: &str) -> FreshDatabase {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(server)
            .await
            .unwrap();
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let url = with_database(server, &name);
        FreshDatabase {
            server: server.to_string(),
            name,
            url,
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let pool = PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&server)
                    .await?;
                let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                sqlx::query(AssertSqlSafe(sql)).execute(&pool).await?;
                pool.close().await;
                Ok::<_, sqlx::Error>(())
            })
        })
        .join();
    }
}

/// `url` with its database (the path) replaced by `name`; the query is kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Where a test app keeps its data.
pub enum TestDb {
    Sqlite {
        dir: tempfile::TempDir,
    },
    Postgres {
        dir: tempfile::TempDir,
        db: FreshDatabase,
    },
}

impl TestDb {
    /// The driver `AUTOMATIONS_TEST_DRIVER` asks for (SQLite by default).
    pub async fn new() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        if suite_on_postgres() {
            let server = postgres_server()
                .expect("AUTOMATIONS_TEST_DRIVER=postgres needs AUTOMATIONS_TEST_POSTGRES_URL");
            TestDb::Postgres {
                dir,
                db: FreshDatabase::create(&server).await,
            }
        } else {
            TestDb::Sqlite { dir }
        }
    }

    /// The SQLite file (for PostgreSQL: an unused path in the app's directory).
    pub fn path(&self) -> PathBuf {
        match self {
            TestDb::Sqlite { dir } | TestDb::Postgres { dir, .. } => dir.path().join("test.db"),
        }
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { .. } => format!("sqlite://{}", self.path().display()),
            TestDb::Postgres { db, .. } => db.url.clone(),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, TestDb::Sqlite { .. })
    }
}

#[test]
fn database_names_replace_the_path_only() {
    for (url, want) in [
        ("postgres://u@h:5432/postgres", "postgres://u@h:5432/t1"),
        (
            "postgres://u:p@h/db?sslmode=disable",
            "postgres://u:p@h/t1?sslmode=disable",
        ),
        ("postgresql://h", "postgresql://h/t1"),
    ] {
        assert_eq!(with_database(url, "t1"), want);
    }
}
