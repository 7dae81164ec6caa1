//! Operability (issue 20): readiness, per-token rate limits with `Retry-After`, request
//! metrics by route template and status; on the real binary: the admin token honoured at
//! first start only and rotated with `token create` + `token revoke`, and JSON logs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use automations_runtime::model::RateLimit;
use automations_server::ApiConfig;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use crate::e2e::start_with;
use crate::support::{ADMIN, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_automations");

async fn readyz(app: &TestApp) -> (StatusCode, Value) {
    let answer = app.call(Method::GET, "/readyz", None, None).await;
    (answer.status, answer.body)
}

/// The first ready answer after workers were started: until then a worker may only be
/// `starting` (its first round not done yet), never stalled or stopped.
async fn until_ready(app: &TestApp) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = readyz(app).await;
        if status == StatusCode::OK {
            return body;
        }
        for (name, state) in body["checks"]["workers"].as_object().unwrap() {
            assert!(state == "ok" || state == "starting", "{name}: {body}");
        }
        assert!(Instant::now() < deadline, "never ready: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn readiness_checks_the_database_and_the_workers() {
    let app = TestApp::new().await;
    // Built but not started: the run, timer and outbox workers are missing.
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "not_ready");
    assert_eq!(body["checks"]["workers"]["runs"], "not started");
    assert_eq!(body["checks"]["workers"]["writer"], "ok");
    assert_eq!(body["checks"]["database"], "ok");

    let workers = app.engine().start();
    let body = until_ready(&app).await;
    assert_eq!(body["status"], "ready");

    workers.shutdown().await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    for name in ["runs", "timers", "outbox"] {
        assert_eq!(body["checks"]["workers"][name], "stopped", "{body}");
        assert!(
            message.contains(&format!("worker {name}: stopped")),
            "{message}"
        );
    }

    let workers = app.engine().start();
    until_ready(&app).await;
    app.engine().store().close().await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_ne!(body["checks"]["database"], "ok", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("database: "), "{message}");
    // Liveness is not readiness: the process still serves.
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    app.state.set_ready(false);
    let (_, body) = readyz(&app).await;
    assert_eq!(body["checks"]["server"], "shutting down");
    drop(workers);
}

/// `count` GETs of `path` with `token` at once, each on its own task: (status, Retry-After).
async fn burst(app: &TestApp, token: &str, count: usize) -> Vec<(StatusCode, Option<u64>, Value)> {
    let handles: Vec<_> = (0..count)
        .map(|_| {
            let request = Request::builder()
                .uri("/api/v1/tasks")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            let router = app.router.clone();
            tokio::spawn(async move {
                let response = router.oneshot(request).await.unwrap();
                let status = response.status();
                let retry = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
                let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                (
                    status,
                    retry,
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                )
            })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(handle.await.unwrap());
    }
    answers
}

/// A bucket that refills one request per 1,000 s: nothing refills during a test.
const TINY: RateLimit = RateLimit::Bucket {
    per_second: 0.001,
    burst: 4.0,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_over_a_tiny_limit_get_429_with_retry_after() {
    let config = ApiConfig {
        rate_limit: TINY,
        ..ApiConfig::default()
    };
    let app = TestApp::with_config(config).await;
    let answers = burst(&app, ADMIN, 32).await;
    let ok = answers.iter().filter(|a| a.0 == StatusCode::OK).count();
    assert_eq!(ok, 4, "exactly the burst passes");
    for (status, retry, body) in answers.iter().filter(|a| a.0 != StatusCode::OK) {
        assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS);
        let retry = retry.expect("a 429 carries Retry-After");
        assert!((1..=1000).contains(&retry), "{retry}");
        assert_eq!(body["error"]["code"], "rate_limited");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("retry after {retry} s")),
            "{message}"
        );
        assert!(body["error"]["diagnostics"].is_array());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_s_own_limit_overrides_the_server_s() {
    // The server is tiny; a token created unlimited is not.
    let app = TestApp::with_config(ApiConfig {
        rate_limit: TINY,
        ..ApiConfig::default()
    })
    .await;
    let importer = app
        .token_with("default", &["runs:read"], Some(RateLimit::Unlimited))
        .await;
    let answers = burst(&app, &importer, 64).await;
    assert!(
        answers.iter().all(|a| a.0 == StatusCode::OK),
        "unlimited token throttled"
    );

    // The server is unlimited; a token created with a tiny limit is not.
    let app = TestApp::with_config(ApiConfig {
        rate_limit: RateLimit::Unlimited,
        ..ApiConfig::default()
    })
    .await;
    let small = RateLimit::Bucket {
        per_second: 0.001,
        burst: 2.0,
    };
    let throttled = app.token_with("default", &["runs:read"], Some(small)).await;
    let answers = burst(&app, &throttled, 16).await;
    let ok = answers.iter().filter(|a| a.0 == StatusCode::OK).count();
    assert_eq!(ok, 2);
    let message = answers.iter().find(|a| a.0 != StatusCode::OK).unwrap().2["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("3.6/h, burst 2"), "{message}");
    let admin = burst(&app, ADMIN, 64).await;
    assert!(
        admin.iter().all(|a| a.0 == StatusCode::OK),
        "others are not limited"
    );
}

/// The value of the metric line with exactly these labels, if any.
fn counter(metrics: &str, labels: &str) -> Option<u64> {
    let prefix = format!("automations_http_requests_total{{{labels}}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn request_metrics_carry_route_templates_and_statuses() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    for _ in 0..3 {
        let answer = app.get(&format!("/api/v1/automations/{id}")).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    for n in 0..5 {
        let answer = app
            .get(&format!("/api/v1/automations/aut_missing_{n}"))
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }
    app.get("/api/v1/no/such/route/1").await;
    app.get("/api/v1/no/such/route/2").await;
    app.call(Method::PUT, "/api/v1/tasks", Some(ADMIN), None)
        .await;
    let metrics = app.call(Method::GET, "/metrics", None, None).await.text;

    let one = r#"method="GET",route="/api/v1/automations/{id}""#;
    assert_eq!(
        counter(&metrics, &format!(r#"{one},status="200""#)),
        Some(3),
        "{metrics}"
    );
    assert_eq!(
        counter(&metrics, &format!(r#"{one},status="404""#)),
        Some(5),
        "{metrics}"
    );
    let created = r#"method="POST",route="/api/v1/automations",status="201""#;
    assert_eq!(counter(&metrics, created), Some(1), "{metrics}");
    let unmatched = r#"method="GET",route="unmatched",status="404""#;
    assert_eq!(counter(&metrics, unmatched), Some(2), "{metrics}");
    let not_allowed = r#"method="PUT",route="/api/v1/tasks",status="405""#;
    assert_eq!(counter(&metrics, not_allowed), Some(1), "{metrics}");
    // Bounded: raw paths never become labels.
    assert!(
        !metrics.contains(&id) && !metrics.contains("aut_missing"),
        "{metrics}"
    );
    assert!(!metrics.contains("no/such"), "{metrics}");
}

/// Runs the binary with `args` to the end: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn status_with(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/automations"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_admin_token_is_honoured_at_first_start_only_and_rotates_by_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let (first, _) = start_with(&db, &[], Some("first-admin-token"));
    assert_eq!(status_with(&first.base, "first-admin-token").await, 200);
    drop(first);

    // A later start with another value: ignored (no second admin token).
    let (second, _) = start_with(&db, &[], Some("second-admin-token"));
    assert_eq!(status_with(&second.base, "second-admin-token").await, 401);
    assert_eq!(status_with(&second.base, "first-admin-token").await, 200);

    // Rotation while serving: a new admin token, then the old one revoked.
    let (code, out, err) = run(&[
        "token",
        "create",
        "--scopes",
        "admin",
        "--name",
        "admin-2",
        "--database-url",
        db.as_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    let new_token = out.lines().last().unwrap().trim().to_string();
    assert_eq!(status_with(&second.base, &new_token).await, 200);
    let (code, listed, err) = run(&["token", "list", "--database-url", db.as_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(!listed.contains(&new_token) && !listed.contains("first-admin-token"));
    let old_id = listed
        .lines()
        .find(|l| l.split('\t').nth(1) == Some("admin"))
        .and_then(|l| l.split('\t').next())
        .unwrap_or_else(|| panic!("no admin token listed: {listed}"))
        .to_string();
    let (code, _, err) = run(&["token", "revoke", &old_id, "--database-url", db.as_str()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(status_with(&second.base, "first-admin-token").await, 401);
    assert_eq!(status_with(&second.base, &new_token).await, 200);
    let (_, listed, _) = run(&["token", "list", "--database-url", db.as_str()]);
    let old_line = listed.lines().find(|l| l.starts_with(&old_id)).unwrap();
    assert!(
        !old_line.ends_with("\t-"),
        "revoked shows its time: {old_line}"
    );
    let (code, _, err) = run(&["token", "revoke", &old_id, "--database-url", db.as_str()]);
    assert_ne!(code, 0, "revoking twice fails");
    assert!(err.contains("not found"), "{err}");
    // Said once (the error's cause repeated its text).
    assert_eq!(err.matches(&old_id).count(), 1, "{err}");
    // The audit log names who did it.
    let log: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/audit?kind=token", second.base))
        .bearer_auth(&new_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("token.revoke", "cli"),
            ("token.create", "cli"),
            ("token.create", "system")
        ]
    );
}

#[tokio::test]
async fn token_create_takes_its_own_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let create = |extra: &[&str]| {
        let mut args = vec![
            "token",
            "create",
            "--scopes",
            "runs:read",
            "--database-url",
            db.as_str(),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (code, _, err) = create(&["--rate-limit", "2/s", "--rate-burst", "3"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = create(&["--rate-limit", "off"]);
    assert_eq!(code, 0, "{err}");
    let (_, listed, _) = run(&["token", "list", "--database-url", db.as_str()]);
    assert!(listed.contains("\t2/s, burst 3\t"), "{listed}");
    assert!(listed.contains("\tunlimited\t"), "{listed}");
    for (bad, fragment) in [
        (vec!["--rate-limit", "fast"], "not a rate"),
        (
            vec!["--rate-limit", "off", "--rate-burst", "3"],
            "needs a rate limit",
        ),
        (vec!["--rate-burst", "3"], "--rate-limit"),
    ] {
        let (code, _, err) = create(&bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.contains(fragment), "{bad:?}: {err}");
    }
    let (code, _, err) = run(&[
        "serve",
        "--rate-limit",
        "5/fortnight",
        "--database-url",
        db.as_str(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown unit `fortnight`"), "{err}");
}

#[tokio::test]
async fn serve_takes_the_rate_limit_flags() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let (server, _) = start_with(
        &db,
        &["--rate-limit", "1/h", "--rate-burst", "2"],
        Some(ADMIN),
    );
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = client
            .get(format!("{}/api/v1/automations", server.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=3600).contains(&retry), "{retry}");
        }
    }
    assert_eq!(statuses, vec![200, 200, 429]);
    drop(server);
    let (server, _) = start_with(&db, &["--rate-limit", "off"], None);
    for _ in 0..50 {
        assert_eq!(status_with(&server.base, ADMIN).await, 200);
    }
}

/// Starts `serve` with `args`, stderr piped; answers the child, its base URL and stderr.
fn serve_capturing(db: &str, args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", db])
        .args(args)
        .env("RUST_LOG", "info")
        .env("AUTOMATIONS_ADMIN_TOKEN", ADMIN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        let line = lines.next().expect("serve printed its URL").unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

/// Stops `child` with SIGTERM and answers everything it wrote to stderr.
fn stop_and_read_stderr(mut child: std::process::Child) -> String {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_without_colours() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("j.db").display());
    let ready = json_ready_line(&db).await;
    assert_eq!(ready["fields"]["sqlite_synchronous"], "normal", "{ready}");
}

/// On PostgreSQL the ready line does not name SQLite's setting (it would mean nothing).
#[tokio::test]
async fn the_ready_line_names_sqlites_setting_only_on_sqlite() {
    let Some(server) = crate::support::db::postgres_server() else {
        return;
    };
    let db = crate::support::db::FreshDatabase::create(&server).await;
    let ready = json_ready_line(&db.url).await;
    assert!(ready["fields"]["url"].is_string(), "{ready}");
    assert!(
        ready["fields"].get("sqlite_synchronous").is_none(),
        "{ready}"
    );
}

/// Serves `db` with JSON logs, stops, checks every line's shape and returns the ready line.
async fn json_ready_line(db: &str) -> Value {
    let (child, base) = serve_capturing(db, &["--log-format", "json"]);
    assert_eq!(status_with(&base, ADMIN).await, 200);
    let err = stop_and_read_stderr(child);
    assert!(!err.contains('\u{1b}'), "no ANSI escapes: {err}");
    let lines: Vec<Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(line["timestamp"].is_string(), "{line}");
        assert!(line["level"].is_string(), "{line}");
        assert!(line["target"].is_string(), "{line}");
        assert!(line["message"].is_string(), "{line}");
    }
    let ready = lines
        .iter()
        .find(|l| l["message"] == "automations API ready")
        .unwrap_or_else(|| panic!("no ready line: {err}"));
    assert_eq!(ready["level"], "INFO");
    assert!(
        ready["fields"]["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert!(
        lines.iter().any(|l| l["message"] == "shutting down"),
        "{err}"
    );
    assert!(!err.contains(ADMIN), "the token never reaches a log line");
    ready.clone()
}

#[tokio::test]
async fn text_logs_to_a_pipe_carry_no_colours() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let (child, base) = serve_capturing(&db, &[]);
    assert_eq!(status_with(&base, ADMIN).await, 200);
    let err = stop_and_read_stderr(child);
    assert!(err.contains("automations API ready"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no ANSI escapes when not a terminal: {err:?}"
    );
}

/// A worker stuck inside a round stops its heartbeat: on the real binary with
/// `--worker-stall-after 1`, a write lock held from outside keeps the group-commit writer
/// waiting on its transaction; `/readyz` then answers 503 naming `writer` as stalled while
/// the idle workers stay ok, and 200 again once the lock is gone and the write went through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_names_a_worker_whose_heartbeat_stopped() {
    use sqlx::Connection;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stall.db");
    let url = format!("sqlite://{}", path.display());
    let (server, _) = start_with(&url, &["--worker-stall-after", "1"], Some(ADMIN));
    let http = reqwest::Client::new();
    let ready = |http: reqwest::Client, base: String| async move {
        let answer = http.get(format!("{base}/readyz")).send().await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.json::<Value>().await.unwrap())
    };
    // Ready once every worker's first round is done (the timer worker's start-up
    // housekeeping writes): only then are the others idle, needing no write lock.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = ready(http.clone(), server.base.clone()).await;
        if status == 200 {
            break;
        }
        for (name, state) in body["checks"]["workers"].as_object().unwrap() {
            assert!(state == "ok" || state == "starting", "{name}: {body}");
        }
        assert!(Instant::now() < deadline, "never ready: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut lock = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .unwrap();
    // A record write: the writer's transaction waits for the lock (its busy timeout).
    let write = tokio::spawn({
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            http.post(format!("{base}/api/v1/records/case"))
                .bearer_auth(ADMIN)
                .json(&serde_json::json!({"subject": "stuck"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let deadline = Instant::now() + Duration::from_secs(8);
    let body = loop {
        let (status, body) = ready(http.clone(), server.base.clone()).await;
        if status == 503 {
            break body;
        }
        assert!(Instant::now() < deadline, "never reported stalled: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let writer = body["checks"]["workers"]["writer"].as_str().unwrap();
    assert!(writer.starts_with("stalled (no heartbeat for "), "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("worker writer: stalled"), "{message}");
    for idle in ["runs", "timers", "outbox"] {
        assert_eq!(body["checks"]["workers"][idle], "ok", "{body}");
    }
    assert_eq!(
        body["checks"]["database"], "ok",
        "reads still answer: {body}"
    );

    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    drop(lock);
    assert_eq!(
        write.await.unwrap(),
        201,
        "the write went through once the lock was gone"
    );
    // The writer beats again at the end of its round, which may come a moment after the
    // answer to the write: wait for it, within a bound.
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let (status, body) = ready(http.clone(), server.base.clone()).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "never ready again: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
