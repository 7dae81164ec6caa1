//! Big inputs (issue: long conditions overflowed the stack and took cubic time; one
//! template rendered 200 MB): `validate` answers every generated condition with a valid
//! report or a clear size diagnostic and the server keeps serving; a stored definition
//! that no longer checks is skipped at start; on the real binary, a step whose template
//! passes its cap fails before anything is stored, with bounded database growth and RSS.

use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::support::run;
use crate::e2e::{Client, TOKEN, items, start_with};
use crate::support::{SEED, TestApp};

fn chain(n: usize, joiner: &str, clause: impl Fn(usize) -> String) -> String {
    (0..n).map(clause).collect::<Vec<_>>().join(joiner)
}

fn definition(condition: &str) -> Value {
    json!({
        "name": "big",
        "trigger": {"event": "case.updated", "conditions": condition},
        "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": "hi"}}],
    })
}

/// One generated condition of `compiler/test_data/big/conditions.txt`, the case file the
/// compiler's tests read too (its header says how a line becomes a condition).
struct BigCase {
    name: String,
    condition: String,
    /// The error codes the answer must hold (empty: valid).
    errors: Vec<String>,
    /// Warning codes the answer must hold at least.
    warnings: Vec<String>,
}

fn conditions() -> Vec<BigCase> {
    let path = crate::cli::support::workspace_root().join("compiler/test_data/big/conditions.txt");
    let data = std::fs::read_to_string(&path).expect("the big conditions case file");
    let cases: Vec<BigCase> = data
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("##"))
        .map(|line| {
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            let [name, count, joiner, clause, expect] = cols[..] else {
                panic!("a case needs 5 columns: {line}")
            };
            let count: usize = count.parse().expect("a count");
            let expect: Vec<String> = expect
                .split_whitespace()
                .filter(|c| *c != "none")
                .map(String::from)
                .collect();
            let (errors, warnings) = expect.into_iter().partition(|c| c.starts_with('E'));
            BigCase {
                name: name.to_string(),
                condition: generate(count, joiner, clause),
                errors,
                warnings,
            }
        })
        .collect();
    assert!(cases.len() >= 20, "too few cases in {}", path.display());
    cases
}

fn generate(count: usize, joiner: &str, clause: &str) -> String {
    let item = |i: usize| clause.replace("{i}", &i.to_string());
    if joiner == "nest" {
        return format!("{}{clause}{}", "(".repeat(count), ")".repeat(count));
    }
    if let Some(field) = joiner.strip_prefix("in:") {
        return format!("{field} in [{}]", chain(count, ", ", item));
    }
    chain(count, &format!(" {joiner} "), item)
}

fn dsl(condition: &str) -> String {
    format!(
        "automation \"big\" {{\n  when case.updated\n  if {condition}\n  do {{\n    \
         notify_user(user_id: \"u1\", message: \"hi\")\n  }}\n}}\n"
    )
}

/// Checks an answer's diagnostics against a case; says what is wrong.
fn check_codes(case: &BigCase, how: &str, report: &Value) -> Result<(), String> {
    let (errors, warnings) = (codes(report, "error"), codes(report, "warning"));
    if errors != case.errors || !case.warnings.iter().all(|w| warnings.contains(w)) {
        return Err(format!(
            "{} ({how}): errors {errors:?} warnings {warnings:?}, want errors {:?} and \
             warnings {:?}",
            case.name, case.errors, case.warnings
        ));
    }
    Ok(())
}

/// The distinct codes of the diagnostics of `severity`, sorted.
fn codes(report: &Value, severity: &str) -> Vec<String> {
    let mut out: Vec<String> = report["diagnostics"]
        .as_array()
        .map(|ds| {
            ds.iter()
                .filter(|d| d["severity"] == severity)
                .filter_map(|d| d["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn validate_answers_big_conditions_and_the_server_keeps_serving() {
    let app = TestApp::new().await;
    let mut failures = Vec::new();
    for case in conditions() {
        let answer = app
            .post("/api/v1/automations/validate", &definition(&case.condition))
            .await;
        assert_eq!(answer.status, 200, "{}: {}", case.name, answer.text);
        assert_eq!(
            answer.body["valid"],
            case.errors.is_empty(),
            "{}",
            case.name
        );
        failures.extend(check_codes(&case, "JSON", &answer.body).err());
        let answer = app
            .post_raw(
                "/api/v1/automations/validate",
                "text/plain",
                dsl(&case.condition).into_bytes(),
            )
            .await;
        assert_eq!(answer.status, 200, "{} (DSL): {}", case.name, answer.text);
        failures.extend(check_codes(&case, "DSL", &answer.body).err());
        assert_eq!(app.get("/healthz").await.status, 200, "after {}", case.name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let created = app
        .post("/api/v1/automations", &serde_json::from_str(SEED).unwrap())
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    // A big valid condition is stored, dispatched and evaluated like any other.
    let big = definition(&chain(20_000, " or ", |i| format!("subject == \"s{i}\"")));
    let created = app.post("/api/v1/automations", &big).await;
    assert_eq!(created.status, 201, "{}", created.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_big_validations_at_once_all_answer() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let body = definition(&chain(20_000, " and ", |i| format!("subject != \"s{i}\"")));
    let calls = (0..16).map(|_| {
        let (app, body) = (app.clone(), body.clone());
        tokio::spawn(async move { app.post("/api/v1/automations/validate", &body).await })
    });
    for answer in futures_join(calls).await {
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.body["valid"], true);
    }
    assert_eq!(app.get("/healthz").await.status, 200);
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_stored_definition_that_no_longer_checks_is_skipped_at_start() {
    let app = TestApp::new().await;
    let created = app
        .post("/api/v1/automations", &serde_json::from_str(SEED).unwrap())
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    let url = app.database_url();
    // What an older release could have stored: a condition past today's depth limit.
    let deep = format!("{} > 0", chain(300, " + ", |_| "len(subject)".into()));
    if app.on_sqlite() {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("UPDATE automation_versions SET definition = ? WHERE automation_id = ?")
            .bind(definition(&deep).to_string())
            .bind(&id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(
            "UPDATE automation_versions SET definition = $1::json WHERE automation_id = $2",
        )
        .bind(definition(&deep).to_string())
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let app = app.reopen().await;
    assert_eq!(app.get("/healthz").await.status, 200);
    let other = app
        .post("/api/v1/automations", &serde_json::from_str(SEED).unwrap())
        .await;
    assert_eq!(other.status, 201, "{}", other.text);
}

/// Peak resident memory of a process, from `/proc/PID/status`.
fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// The bytes of the pages the database at `db` holds (page count times page size, as a
/// reader sees it, write-ahead log included), however much of it a checkpoint has copied
/// into the file yet; and the size of its write-ahead log file.
async fn database_bytes(db: &std::path::Path) -> (u64, u64) {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let wal = std::fs::metadata(db.with_extension("db-wal")).map_or(0, |m| m.len());
    ((pages * size) as u64, wal)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_past_its_cap_fails_its_step_and_stores_nothing_big() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    let db_url = format!("sqlite://{}", db.display());
    let (server, _) = start_with(&db_url, &[], Some(TOKEN));
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: TOKEN.into(),
    };
    let message = "{{ subject }}".repeat(400);
    let automation = json!({
        "name": "amplifier",
        "trigger": {"event": "case.created"},
        "actions": [{"type": "notify_user", "params": {"user_id": "u1", "message": message}}],
        "status": "active",
    });
    let (status, created) = client.post("/api/v1/automations", automation).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    // Let start-up writes settle before measuring.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (before, _) = database_bytes(&db).await;
    let subject = "x".repeat(500_000);
    let (status, case) = client
        .post("/api/v1/records/case", json!({"subject": subject}))
        .await;
    assert_eq!(status, 201, "{case}");
    let runs = client
        .wait_for(&format!("/api/v1/automations/{id}/runs"), |b| {
            items(b).first().is_some_and(|r| r["status"] == "failed")
        })
        .await;
    let run_id = items(&runs)[0]["id"].as_str().unwrap().to_string();
    let (_, run) = client
        .get(&format!("/api/v1/automations/{id}/runs/{run_id}"))
        .await;
    let step = &run["steps"][0];
    assert_eq!(step["status"], "failed", "{run}");
    let error = step["error"].as_str().unwrap();
    assert!(error.contains("--max-text-param-bytes"), "{error}");
    assert!(error.contains("65536"), "{error}");
    assert!(step["input"].is_null(), "{step}");
    let (after, wal) = database_bytes(&db).await;
    let grown = after.saturating_sub(before);
    let hwm = vm_hwm_kib(server.child.id());
    eprintln!("database grew {grown} bytes, WAL file {wal} bytes; server VmHWM {hwm} KiB");
    // The 500 KB record itself is stored (once in the record, once in its event); nothing
    // of the rendered text reached the log either (not even pages spilled and rolled back).
    assert!(grown < 2 << 20, "database grew {grown} bytes");
    assert!(wal < 8 << 20, "WAL file {wal} bytes");
    assert!(hwm < 100 << 10, "server VmHWM {hwm} KiB");
}

#[test]
fn lint_and_eval_answer_big_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in conditions() {
        let path = dir.path().join("big.auto");
        std::fs::write(&path, dsl(&case.condition)).unwrap();
        let r = run(&["lint", "--format", "json", path.to_str().unwrap()]);
        let want = if case.errors.is_empty() { 0 } else { 1 };
        assert_eq!(r.code, want, "{}: {}", case.name, r.stderr);
        failures.extend(check_codes(&case, "lint", &r.json()).err());
        // One command-line argument holds at most 128 KiB (Linux MAX_ARG_STRLEN).
        if case.condition.len() < 100_000 {
            let record = r#"{"subject":"s1"}"#;
            let r = run(&[
                "eval",
                "--object",
                "case",
                "--record",
                record,
                &case.condition,
            ]);
            assert_eq!(r.code, want, "{} (eval): {}", case.name, r.stderr);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
