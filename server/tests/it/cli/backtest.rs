//! `automations backtest` against a database, and `plan --backtest` against the real
//! server: the edited text and the current version replayed side by side.

use std::path::Path;

use super::support::run;
use crate::e2e::{Client, TOKEN, start_with};
use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtest_command_replays_a_database() {
    let app = TestApp::new().await;
    let id = app.create_seed().await;
    for i in 0..20 {
        let priority = if i % 2 == 0 { "critical" } else { "low" };
        let r = app
            .post(
                "/api/v1/records/case",
                &serde_json::json!({"priority": priority, "subject": format!("#{i}")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    app.settle().await;
    let url = app.database_url();

    let r = run(&["backtest", &id, "--database-url", &url, "--format", "json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let b = r.json();
    assert_eq!(b["status"], "completed");
    assert_eq!(b["result"]["events_considered"], 20);
    assert_eq!(b["result"]["events_matched"], 10);

    let r = run(&[
        "backtest",
        &id,
        "--database-url",
        &url,
        "--since",
        "1h",
        "--version",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("20 case.created event(s) considered, 10 matched"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("case.queue_id"), "{}", r.stdout);
    assert!(r.stdout.contains("\"q_escalations\" x10"), "{}", r.stdout);
    assert!(r.stdout.contains("e.g. no match on"), "{}", r.stdout);

    // Out of bounds: exit 2 with the bound named; unknown automation: exit 1.
    let r = run(&["backtest", &id, "--database-url", &url, "--limit", "200000"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("limit 200000 is out of bounds"),
        "{}",
        r.stderr
    );
    let r = run(&["backtest", &id, "--database-url", &url, "--since", "soon"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("not a duration"), "{}", r.stderr);
    let r = run(&["backtest", "aut_nope", "--database-url", &url]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not found"), "{}", r.stderr);
}

const ROUTE: &str = "automation \"Route cases\" {\n  status active\n  when case.created\n  do {\n    assign_to_queue(queue_id: \"q9\")\n  }\n}\n";

fn plan(dir: &Path, base: &str, extra: &[&str]) -> super::support::Run {
    let mut args = vec![
        "plan",
        dir.to_str().unwrap(),
        "--server",
        base,
        "--token",
        TOKEN,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[tokio::test]
async fn plan_backtests_each_changed_automation() {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", db.path().join("a.db").display());
    let (server, _) = start_with(&url, &[], Some(TOKEN));
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: TOKEN.into(),
    };
    let created = client
        .http
        .post(format!("{}/api/v1/automations", server.base))
        .bearer_auth(TOKEN)
        .header("content-type", "text/plain")
        .body(ROUTE)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    for priority in ["critical", "low", "critical", "low", "low", "critical"] {
        let r = client
            .http
            .post(format!("{}/api/v1/records/case", server.base))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({"priority": priority}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let dir = tempfile::tempdir().unwrap();
    let base = server.base.as_str();
    let r = run(&[
        "pull",
        dir.path().to_str().unwrap(),
        "--server",
        base,
        "--token",
        TOKEN,
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let file = dir.path().join("route-cases.auto");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("  do {", "  if priority == \"critical\"\n  do {"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("new.auto"),
        ROUTE.replace("Route cases", "Brand new"),
    )
    .unwrap();

    let r = plan(dir.path(), base, &["--backtest", "7d"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out = &r.stdout;
    let edited = out.find(" edited:").expect(out);
    let current = out.find(" current:").expect(out);
    assert!(edited < current, "{out}");
    assert!(
        out[edited..current].contains("6 case.created event(s) considered, 3 matched"),
        "{out}"
    );
    assert!(
        out[current..].contains("6 case.created event(s) considered, 6 matched"),
        "{out}"
    );
    assert!(
        out.contains("backtest \"Brand new\": not run (a new automation"),
        "{out}"
    );

    // Nothing was applied by the plan, and a bad duration is refused before any work.
    let r = plan(dir.path(), base, &[]);
    assert!(
        r.stdout.contains("Plan: 1 to create, 1 to update"),
        "{}",
        r.stdout
    );
    let r = plan(dir.path(), base, &["--backtest", "a week"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("not a duration"), "{}", r.stderr);
}
