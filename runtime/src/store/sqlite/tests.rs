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

/// SQLite's plan for `statement`, its first `binds` parameters bound to 10 (a value of
/// any type will do for a plan).
async fn query_plan(conn: &mut sqlx::SqliteConnection, statement: &str, binds: usize) -> String {
    use sqlx::Row;
    let mut explain = sqlx::query(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {statement}"
    )));
    for _ in 0..binds {
        explain = explain.bind(10i64);
    }
    explain
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>("detail"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `CREATE INDEX` text of index `name`.
async fn index_sql(conn: &mut sqlx::SqliteConnection, name: &str) -> String {
    sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = ?")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// Migration 0012: `outbox_due` holds pending items only (an outcome takes the item
/// out instead of moving it), the claim still reads due items from it in order, and
/// the automation log has no `created_at` index for every dispatched event to write.
#[tokio::test]
async fn the_claim_reads_the_partial_due_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("c.db")).await;
    let mut conn = store.writer.acquire().await.unwrap();
    let plan = query_plan(&mut conn, super::work::CLAIMABLE, 3).await;
    assert!(
        plan.contains("USING INDEX outbox_due") && !plan.contains("TEMP B-TREE"),
        "the claim scans the due index in order: {plan}"
    );
    let index = index_sql(&mut conn, "outbox_due").await;
    assert!(index.contains("WHERE status = 'pending'"), "{index}");
    drop(conn);
    let by_age: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'automation_log_created'")
            .fetch_optional(&mut *store.writer.acquire().await.unwrap())
            .await
            .unwrap();
    assert_eq!(by_age, None);
    store.close().await;
}

/// Migration 0013: `runs_status` holds the runs that are not completed, so a run that
/// ends completed writes no page of it; the statements that look runs up by status still
/// read that index (the queue in order, without a sort), and the completed ones are
/// counted as all runs less the others.
#[tokio::test]
async fn runs_are_looked_up_by_status_on_the_open_runs_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("r.db")).await;
    let mut conn = store.writer.acquire().await.unwrap();
    let statements = [
        format!("SELECT id {}", super::runs::QUEUED),
        super::runs::DUE_WORK.to_string(),
        super::runs::BY_STATUS.to_string(),
        super::runs::REQUEUE.to_string(),
    ];
    for statement in statements {
        let binds = usize::from(statement.contains('?'));
        let plan = query_plan(&mut conn, &statement, binds).await;
        assert!(
            plan.contains("INDEX runs_status") && !plan.contains("TEMP B-TREE"),
            "{statement}: {plan}"
        );
    }
    let index = index_sql(&mut conn, "runs_status").await;
    assert!(index.contains("WHERE status <> 'completed'"), "{index}");
    drop(conn);
    store.close().await;
}

/// The writer keeps its temporary storage in memory (a group's multi-row statements made
/// and unlinked a temporary file about once per group); readers keep SQLite's default, as
/// their sorts are bounded by a table rather than by a group.
#[tokio::test]
async fn only_the_writer_keeps_temporary_storage_in_memory() {
    const MEMORY: i64 = 2;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("t.db")).await;
    let writer: i64 = sqlx::query_scalar("PRAGMA temp_store")
        .fetch_one(&mut *store.writer.acquire().await.unwrap())
        .await
        .unwrap();
    assert_eq!(writer, MEMORY);
    let reader: i64 = sqlx::query_scalar("PRAGMA temp_store")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_ne!(reader, MEMORY);
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
        .fetch_one(&mut *store.writer.acquire().await.unwrap())
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
    .execute(&mut *store.writer.acquire().await.unwrap())
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
        .execute(&mut *store.writer.acquire().await.unwrap())
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
        .execute(&mut *store.writer.acquire().await.unwrap())
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

/// A write that begins at once (the writer connection is free, in no transaction) and
/// commits the record `id`.
async fn writes_at_once(store: &super::SqliteStore, id: &str) {
    use crate::store::StoreTx;
    let mut next = begins_at_once(store).await.expect("the writer is free");
    next.insert_record(&case(id)).await.unwrap();
    next.commit().await.unwrap();
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

    writes_at_once(&store, "other").await;
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

    writes_at_once(&store, "next").await;
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

/// `writer.rs`: a transaction dropped after writing (its task cancelled, or an error
/// returned before its commit) is rolled back before the next writer gets the
/// connection: none of its rows remain and the next transaction begins and commits.
#[tokio::test]
async fn a_dropped_transaction_is_rolled_back_before_the_next_write() {
    use crate::store::{Store, StoreTx};
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("r.db")).await;
    for round in 0..3 {
        let mut dropped = store.begin().await.unwrap();
        dropped.insert_record(&case("dropped")).await.unwrap();
        // The savepoint writes what was held back, inside the transaction.
        dropped.savepoint().await.unwrap();
        drop(dropped);

        let mut next = begins_at_once(&store).await.expect("the writer is free");
        assert!(
            next.record("ws", "case", "dropped")
                .await
                .unwrap()
                .is_none()
        );
        next.insert_record(&case(&format!("kept{round}")))
            .await
            .unwrap();
        next.commit().await.unwrap();
    }
    for round in 0..3 {
        let id = format!("kept{round}");
        assert!(store.record("ws", "case", &id).await.unwrap().is_some());
    }
    assert!(
        store
            .record("ws", "case", "dropped")
            .await
            .unwrap()
            .is_none()
    );
    store.close().await;
}

/// A commit whose task is dropped while its script runs (thousands of rows, several
/// statements) leaves all of them or none, and the writer connection usable: 16 such
/// cancelled commits one after the other, each followed by a write that must succeed.
#[tokio::test]
async fn a_commit_cancelled_midway_writes_all_or_nothing() {
    use crate::store::{Store, StoreTx};
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("m.db")).await;
    let mut cancelled_rounds = 0;
    for round in 0..16 {
        let mut big = store.begin_deferred().await.unwrap();
        for i in 0..2_000 {
            big.insert_record(&case(&format!("r{round}-{i}")))
                .await
                .unwrap();
        }
        // Polled once: the script is sent to the connection's thread, then dropped. On a
        // loaded machine the thread may finish it before that one poll returns.
        let cancelled = tokio::time::timeout(std::time::Duration::ZERO, big.commit()).await;
        cancelled_rounds += usize::from(cancelled.is_err());

        writes_at_once(&store, &format!("after{round}")).await;
        let written: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE id LIKE ?")
            .bind(format!("r{round}-%"))
            .fetch_one(&store.reader)
            .await
            .unwrap();
        assert!(
            written == 0 || written == 2_000,
            "round {round}: {written} rows"
        );
    }
    assert!(
        cancelled_rounds > 0,
        "every commit ended within its first poll: none was cancelled midway"
    );
    store.close().await;
}

/// A transaction dropped where no runtime can roll it back closes the writer connection
/// (SQLite rolls it back), and the next write opens a new one.
#[test]
fn a_connection_left_in_a_transaction_is_opened_anew() {
    use crate::store::{Store, StoreTx};
    let dir = tempfile::tempdir().unwrap();
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first = runtime();
    let (store, left) = first.block_on(async {
        let store = file_store(&dir.path().join("o.db")).await;
        let mut left = store.begin().await.unwrap();
        left.insert_record(&case("left")).await.unwrap();
        left.savepoint().await.unwrap();
        (store, left)
    });
    drop(left);
    drop(first);
    runtime().block_on(async {
        let mut next = begins_at_once(&store).await.expect("the writer is free");
        assert!(next.record("ws", "case", "left").await.unwrap().is_none());
        next.insert_record(&case("next")).await.unwrap();
        next.commit().await.unwrap();
        assert!(store.record("ws", "case", "next").await.unwrap().is_some());
        store.close().await;
    });
}

/// A `BEGIN` whose task is dropped while the connection's thread runs it leaves no
/// transaction open for the next writer (64 rounds, each dropped a little later).
#[tokio::test]
async fn a_begin_cancelled_midway_leaves_no_transaction_open() {
    use crate::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir.path().join("b.db")).await;
    for round in 0..64 {
        // Dropped at various points of its round trip: from before it is sent to after
        // the answer.
        let wait = std::time::Duration::from_micros(round * 5);
        let _ = tokio::time::timeout(wait, store.begin()).await;
        writes_at_once(&store, &format!("after{round}")).await;
    }
    store.close().await;
}
