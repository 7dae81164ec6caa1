//! Tests of the SQLite driver that need its internals (the writer pool, the claim's
//! statement, the driver's source files); the behaviour every driver shares is in the
//! storage conformance suite (`runtime/tests/it/conformance`).

/// See the driver's module docs (`mod.rs`): a bare bound `LIMIT` makes SQLite prepare
/// the statement again on every execution.
#[test]
fn no_statement_binds_its_limit_bare() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/sqlite");
    // Spelled in two pieces so that this test does not find itself.
    let needle = ["LIMIT", " ?"].concat();
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        files += 1;
        for (n, line) in text.lines().enumerate() {
            let bare = line.matches(needle.as_str()).count();
            let docs = line.trim_start().starts_with("//");
            assert!(
                bare == 0 || docs,
                "{}:{}: write `LIMIT CAST(?n AS INTEGER)`",
                path.display(),
                n + 1
            );
        }
    }
    assert!(files > 5, "read the driver's files");
}

async fn file_store(path: &std::path::Path) -> super::SqliteStore {
    super::SqliteStore::open(&super::SqliteConfig::file(path))
        .await
        .unwrap()
}

/// Migration 0012: `outbox_due` holds pending items only (an outcome takes the item
/// out instead of moving it), the claim still reads due items from it in order, and
/// the automation log has no `created_at` index for every dispatched event to write.
#[tokio::test]
async fn the_claim_reads_the_partial_due_index() {
    use sqlx::Row;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("c.db")).await;
    let plan = sqlx::query(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {}",
        super::work::CLAIMABLE
    )))
    .bind("2026-01-01T00:00:00Z")
    .bind("2026-01-01T00:00:00Z")
    .bind(10i64)
    .fetch_all(&store.writer)
    .await
    .unwrap()
    .iter()
    .map(|row| row.get::<String, _>("detail"))
    .collect::<Vec<_>>()
    .join("; ");
    assert!(
        plan.contains("USING INDEX outbox_due") && !plan.contains("TEMP B-TREE"),
        "the claim scans the due index in order: {plan}"
    );
    let index: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = 'outbox_due'")
            .fetch_one(&store.writer)
            .await
            .unwrap();
    assert!(index.contains("WHERE status = 'pending'"), "{index}");
    let by_age: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'automation_log_created'")
            .fetch_optional(&store.writer)
            .await
            .unwrap();
    assert_eq!(by_age, None);
    store.close().await;
}

/// `checkpoint.rs`: the writer never checkpoints, and what it writes still reaches the
/// database file while the store is open (well before the 1,000 WAL pages at which
/// SQLite would checkpoint on its own).
#[tokio::test]
async fn the_wal_is_checkpointed_off_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let store = file_store(&path).await;
    let automatic: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(&store.writer)
        .await
        .unwrap();
    assert_eq!(
        automatic, 0,
        "the writer leaves checkpoints to the checkpointer"
    );
    let before = std::fs::metadata(&path).unwrap().len();
    // About 300 pages of 4 KiB, written in one commit.
    sqlx::raw_sql(
        "CREATE TABLE filler (b BLOB); \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) \
         INSERT INTO filler SELECT randomblob(3000) FROM n",
    )
    .execute(&store.writer)
    .await
    .unwrap();
    let wanted = before + 300 * 3000;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut size = before;
    while size < wanted && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        size = std::fs::metadata(&path).unwrap().len();
    }
    assert!(
        size >= wanted,
        "the database file holds the commit's pages: {size} bytes, {wanted} wanted"
    );
    store.close().await;
}

/// `checkpoint.rs`: under steady writes the WAL still starts over (passive checkpoints
/// alone never let it: it would hold every frame written, here about 80 MiB).
#[tokio::test]
async fn steady_writes_do_not_grow_the_wal_without_end() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("w.db")).await;
    sqlx::raw_sql("CREATE TABLE filler (b BLOB)")
        .execute(&store.writer)
        .await
        .unwrap();
    let wal = dir.path().join("w.db-wal");
    let mut largest = 0;
    // 400 commits of about 50 pages each, a little over 2 ms apart.
    for _ in 0..400 {
        sqlx::raw_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) \
             INSERT INTO filler SELECT randomblob(3500) FROM n",
        )
        .execute(&store.writer)
        .await
        .unwrap();
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert!(
        largest < 48 << 20,
        "the WAL started over on the way: its file peaked at {largest} bytes"
    );
    store.close().await;
}

fn case(id: &str) -> crate::model::Record {
    let now = chrono::Utc::now();
    crate::model::Record {
        workspace_id: "ws".into(),
        object: "case".into(),
        id: id.into(),
        fields: serde_json::Map::new(),
        created_at: now,
        updated_at: now,
    }
}

/// A write transaction begun within a second, or `None`: one waiting for the one writer
/// connection does not begin.
async fn begins_at_once(store: &super::SqliteStore) -> Option<super::SqliteTx> {
    use crate::store::Store;
    tokio::time::timeout(std::time::Duration::from_secs(1), store.begin())
        .await
        .ok()
        .map(Result::unwrap)
}

/// A deferred transaction that only held rows back holds no lock: another write
/// transaction begins and commits while it is open, and its rows are written at its
/// commit. One that reads takes the connection at that read.
#[tokio::test]
async fn a_deferred_transaction_takes_the_writer_at_its_first_statement() {
    use crate::store::{Store, StoreTx};
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("d.db")).await;
    let mut deferred = store.begin_deferred().await.unwrap();
    deferred.insert_record(&case("held")).await.unwrap();

    let mut other = begins_at_once(&store).await.expect("the writer is free");
    other.insert_record(&case("other")).await.unwrap();
    other.commit().await.unwrap();
    deferred.commit().await.unwrap();
    for id in ["held", "other"] {
        assert!(
            store.record("ws", "case", id).await.unwrap().is_some(),
            "{id}"
        );
    }

    let mut reading = store.begin_deferred().await.unwrap();
    reading.record("ws", "case", "held").await.unwrap();
    assert!(
        begins_at_once(&store).await.is_none(),
        "the read took the lock"
    );
    drop(reading);
    assert!(begins_at_once(&store).await.is_some(), "dropped, it let go");
}

/// A deferred commit that fails midway (its second row breaks the primary key) writes
/// none of its rows and leaves the writer connection usable for the next transaction.
#[tokio::test]
async fn a_failed_deferred_commit_writes_nothing_and_frees_the_writer() {
    use crate::store::{Store, StoreTx};
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("f.db")).await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_record(&case("taken")).await.unwrap();
    tx.commit().await.unwrap();

    let mut failing = store.begin_deferred().await.unwrap();
    failing.insert_record(&case("first")).await.unwrap();
    failing.insert_record(&case("taken")).await.unwrap();
    assert!(failing.commit().await.is_err(), "the key is taken");
    assert!(store.record("ws", "case", "first").await.unwrap().is_none());

    let mut next = begins_at_once(&store).await.expect("the writer is free");
    next.insert_record(&case("next")).await.unwrap();
    next.commit().await.unwrap();
    assert!(store.record("ws", "case", "next").await.unwrap().is_some());
}

/// A deferred transaction that held nothing back commits without the writer connection
/// (a group whose every request failed validation costs no round trip).
#[tokio::test]
async fn an_empty_deferred_commit_needs_no_connection() {
    use crate::store::{Store, StoreTx};
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("e.db")).await;
    let holder = store.begin().await.unwrap();
    let empty = store.begin_deferred().await.unwrap();
    let within = std::time::Duration::from_secs(1);
    let committed = tokio::time::timeout(within, empty.commit()).await;
    assert!(
        matches!(committed, Ok(Ok(()))),
        "committed beside the holder"
    );
    drop(holder);
}
