//! `automations pull`, `plan` and `apply` against the real server: pull, edit a file, plan
//! shows exactly that change, apply makes it, a second plan shows nothing; a file with a
//! lint error makes apply change nothing; `--prune` archives what is in no file; secrets
//! never reach the files or the output, and survive a pull, edit and apply.

use std::path::Path;

use super::support::run;
use crate::e2e::{Client, Server, TOKEN, start_with};

const NEW: &str = "automation \"Brand new\" {\n  status active\n  when case.created\n  do {\n    assign_to_queue(queue_id: \"q9\")\n  }\n}\n";

fn sync(verb: &str, dir: &Path, base: &str, extra: &[&str]) -> super::support::Run {
    let dir = dir.to_str().unwrap();
    let mut args = vec![verb, dir, "--server", base, "--token", TOKEN];
    args.extend_from_slice(extra);
    run(&args)
}

/// The server on a new SQLite file with `flags`, after the directory that holds the file
/// (bound in this order, the server is dropped, and stopped, before the directory goes).
fn serve(flags: &[&str]) -> (tempfile::TempDir, Server) {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", db.path().join("a.db").display());
    let (server, _) = start_with(&url, flags, Some(TOKEN));
    (db, server)
}

fn auto_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "auto"))
        .collect();
    files.sort();
    files
}

async fn versions(client: &Client) -> Vec<(String, i64, String)> {
    let (_, body) = client.get("/api/v1/automations?limit=500").await;
    let mut out: Vec<(String, i64, String)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_i64().unwrap(),
                a["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn pull_edit_plan_apply_and_plan_again() {
    let (_db, server) = serve(&[]);
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: TOKEN.into(),
    };
    for name in ["Route critical cases", "Escalate stale cases"] {
        let dsl = NEW.replace("Brand new", name);
        let response = client
            .http
            .post(format!("{}/api/v1/automations", server.base))
            .bearer_auth(TOKEN)
            .header("content-type", "text/plain")
            .body(dsl)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let dir = tempfile::tempdir().unwrap();
    let base = server.base.as_str();

    let r = sync("pull", dir.path(), base, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let files = auto_files(dir.path());
    assert_eq!(files.len(), 2, "{files:?}");
    let route = dir.path().join("route-critical-cases.auto");
    let text = std::fs::read_to_string(&route).unwrap();
    assert!(text.starts_with("# id: aut_"), "{text}");

    let r = sync("plan", dir.path(), base, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);

    // One edit (and a comment, which changes nothing on the server) and one new file.
    let edited = text
        .replace("\"q9\"", "\"q1\"")
        .replace("  do {", "  # routed by region\n  do {");
    std::fs::write(&route, &edited).unwrap();
    std::fs::write(dir.path().join("new.auto"), NEW).unwrap();
    let before = versions(&client).await;
    let r = sync("plan", dir.path(), base, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let changed: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("- ") || l.trim_start().starts_with("+ "))
        .collect();
    let create = format!(
        "+ create \"Brand new\" ({})",
        dir.path().join("new.auto").display()
    );
    assert_eq!(
        changed,
        [
            create.as_str(),
            "    -     assign_to_queue(queue_id: \"q9\")",
            "    +     assign_to_queue(queue_id: \"q1\")",
        ],
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Plan: 1 to create, 1 to update, 0 to archive."),
        "{}",
        r.stdout
    );
    assert_eq!(versions(&client).await, before, "plan changed the server");

    let r = sync("apply", dir.path(), base, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("applied 2 change(s)"), "{}", r.stdout);
    let after = versions(&client).await;
    assert!(
        after.contains(&("Route critical cases".into(), 2, "active".into())),
        "{after:?}"
    );
    assert!(
        after.contains(&("Brand new".into(), 1, "active".into())),
        "{after:?}"
    );
    let new_text = std::fs::read_to_string(dir.path().join("new.auto")).unwrap();
    assert!(new_text.starts_with("# id: aut_"), "{new_text}");
    assert!(
        std::fs::read_to_string(&route)
            .unwrap()
            .contains("# routed by region")
    );

    let r = sync("plan", dir.path(), base, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);

    // A lint error in one file: apply changes nothing, and says where.
    let before = versions(&client).await;
    std::fs::write(&route, edited.replace("\"q1\"", "\"q2\"")).unwrap();
    std::fs::write(
        dir.path().join("broken.auto"),
        NEW.replace("Brand new", "Broken").replace(
            "when case.created",
            "when case.created\n  if priorty == \"x\"",
        ),
    )
    .unwrap();
    let r = sync("apply", dir.path(), base, &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("broken.auto:4:"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was applied"), "{}", r.stderr);
    // `plan` says the same: the changes, but no plan to apply, and what to write instead.
    let r = sync("plan", dir.path(), base, &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("+ create \"Broken\""), "{}", r.stdout);
    assert!(!r.stdout.contains("Plan: "), "{}", r.stdout);
    assert!(r.stdout.contains("No plan: 1 error(s)"), "{}", r.stdout);
    assert!(
        r.stderr.contains("did you mean `priority`?"),
        "{}",
        r.stderr
    );
    assert_eq!(
        versions(&client).await,
        before,
        "a refused apply changed the server"
    );

    // --prune archives what is in no file (here: the stale-cases automation).
    std::fs::remove_file(dir.path().join("broken.auto")).unwrap();
    std::fs::remove_file(dir.path().join("escalate-stale-cases.auto")).unwrap();
    let r = sync("plan", dir.path(), base, &[]);
    assert!(
        r.stdout.contains("keep \"Escalate stale cases\""),
        "{}",
        r.stdout
    );
    let r = sync("apply", dir.path(), base, &["--prune"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = versions(&client).await;
    assert!(
        after.contains(&("Escalate stale cases".into(), 1, "archived".into())),
        "{after:?}"
    );
    assert!(
        after.contains(&("Route critical cases".into(), 3, "active".into())),
        "{after:?}"
    );
    let r = sync("plan", dir.path(), base, &["--prune"]);
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);
    drop(server);
}

#[test]
fn without_a_token_it_says_how_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(&[
        "plan",
        dir.path().to_str().unwrap(),
        "--server",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("AUTOMATIONS_TOKEN"), "{}", r.stderr);
}

/// A server that accepts connections and never answers: `plan` gives up after `--timeout`
/// (or `AUTOMATIONS_TIMEOUT`) with an error naming the limit, instead of hanging.
#[test]
fn plan_against_a_server_that_never_answers_fails_with_the_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        // Held open, never read nor written.
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    for (flags, env) in [
        (vec!["--timeout", "1"], None),
        (vec![], Some(("AUTOMATIONS_TIMEOUT", "1"))),
    ] {
        let mut args = vec!["plan", dir, "--server", server.as_str(), "--token", "t"];
        args.extend(flags);
        let r = run_bounded(&args, env);
        assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("did not answer in time"), "{}", r.stderr);
        assert!(r.stderr.contains("after 1 s"), "{}", r.stderr);
        assert!(
            r.stderr.contains("--timeout, AUTOMATIONS_TIMEOUT"),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "no plan printed: {}", r.stdout);
    }
}

/// What keeps the CLI from the server is named: the refused connection (reqwest's own
/// text was only "error sending request"), or a `--server` that already ends in /api/v1,
/// where every route answers 404.
#[test]
fn an_unreachable_or_misnamed_server_is_named() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    // A password in the address is used, never shown.
    let r = sync(
        "plan",
        dir.path(),
        &format!("http://u:s3cret@{closed}"),
        &[],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("cannot reach the server"), "{}", r.stderr);
    assert!(r.stderr.contains("http://u:***@"), "{}", r.stderr);
    assert!(!r.stderr.contains("s3cret"), "{}", r.stderr);
    assert!(
        r.stderr.to_lowercase().contains("connection refused"),
        "{}",
        r.stderr
    );

    let (_db, server) = serve(&[]);
    let twice = format!("{}/api/v1", server.base);
    let r = sync("plan", dir.path(), &twice, &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("404"), "{}", r.stderr);
    assert!(r.stderr.contains("/api/v1/api/v1/"), "{}", r.stderr);
    assert!(r.stderr.contains("without /api/v1"), "{}", r.stderr);
    drop(server);
}

/// An id the server does not know, or one used twice, refuses the plan with the place
/// of each as `file:line:column`, like every other problem.
#[test]
fn unknown_and_repeated_ids_are_placed() {
    let (_db, server) = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let with_id = format!("# id: aut_nope\n{NEW}");
    std::fs::write(dir.path().join("a.auto"), &with_id).unwrap();
    std::fs::write(dir.path().join("b.auto"), &with_id).unwrap();
    let r = sync("plan", dir.path(), &server.base, &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("a.auto:2:1: id aut_nope is not an automation"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("b.auto:2:1: id aut_nope is also used at "),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("No plan: 2 error(s)"), "{}", r.stdout);
    drop(server);
}

#[test]
fn timeouts_must_be_positive_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    for (flag, value) in [
        ("--timeout", "0"),
        ("--connect-timeout", "-1"),
        ("--timeout", "1e9"),
    ] {
        let given = format!("{flag}={value}");
        let r = run(&[
            "plan",
            dir,
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "t",
            &given,
        ]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains(flag), "{}", r.stderr);
        assert!(r.stderr.contains("above 0"), "{}", r.stderr);
    }
    let r = run_bounded(
        &[
            "plan",
            dir,
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ],
        Some(("AUTOMATIONS_CONNECT_TIMEOUT", "soon")),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("AUTOMATIONS_CONNECT_TIMEOUT=\"soon\""),
        "{}",
        r.stderr
    );
}

/// Runs the binary with one extra environment variable; a run still going after a minute
/// is killed and fails the test (a hang guard, far above any timeout used here).
fn run_bounded(args: &[&str], env: Option<(&str, &str)>) -> super::support::Run {
    use std::io::Read;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_automations"));
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("AUTOMATIONS_TIMEOUT")
        .env_remove("AUTOMATIONS_CONNECT_TIMEOUT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some((k, v)) = env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("automations {args:?} was still running after a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    super::support::Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// A webhook's signing secret and `Authorization` header: pull writes placeholders, plan
/// and apply print neither, and after an applied edit the delivery still carries both.
#[tokio::test]
async fn secrets_stay_on_the_server_through_pull_plan_and_apply() {
    const SECRET: &str = "whsec_c3luYy1jYW5hcnktc2lnbmluZy0yOQ==";
    const AUTH: &str = "sync-canary-auth-6d3f";
    let canaries = [SECRET, "c3luYy1jYW5hcnktc2lnbmluZy0yOQ", AUTH];
    let (port, got) = crate::secrets::receiver().await;
    let (_db, server) = serve(&["--webhook-allow-private"]);
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: TOKEN.into(),
    };
    let definition = serde_json::json!({
        "name": "Tell billing",
        "trigger": {"event": "case.created"},
        "actions": [{"id": "hook", "type": "webhook", "params": {
            "url": format!("http://127.0.0.1:{port}/hook"),
            "secret": SECRET,
            "headers": {"Authorization": format!("Bearer {AUTH}")},
            "body": {"case": "{{ id }}"}
        }}],
        "status": "active"
    });
    let (status, created) = client.post("/api/v1/automations", definition).await;
    assert_eq!(status, 201, "{created}");
    let dir = tempfile::tempdir().unwrap();
    let base = server.base.as_str();
    let clean = |what: &str, text: &str| {
        for canary in canaries {
            assert!(!text.contains(canary), "{what} shows a secret: {text}");
        }
    };

    let r = sync("pull", dir.path(), base, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    clean("pull", &format!("{}{}", r.stdout, r.stderr));
    let file = dir.path().join("tell-billing.auto");
    let text = std::fs::read_to_string(&file).unwrap();
    clean("the pulled file", &text);

    std::fs::write(
        &file,
        text.replace("Tell billing", "Tell the billing system"),
    )
    .unwrap();
    for verb in ["plan", "apply"] {
        let r = sync(verb, dir.path(), base, &[]);
        assert_eq!(r.code, 0, "{verb}: {}{}", r.stdout, r.stderr);
        clean(verb, &format!("{}{}", r.stdout, r.stderr));
    }
    let (_, list) = client.get("/api/v1/automations").await;
    assert_eq!(
        list["items"][0]["name"], "Tell the billing system",
        "{list}"
    );
    assert_eq!(list["items"][0]["version"], 2, "{list}");

    let (status, case) = client
        .post(
            "/api/v1/records/case",
            serde_json::json!({"subject": "s", "priority": "low"}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while got.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no delivery");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let head = got.lock().unwrap()[0].head.to_ascii_lowercase();
    assert!(
        head.contains(&format!("authorization: bearer {AUTH}")),
        "the stored secret was kept: {head}"
    );
    assert!(
        head.contains("webhook-signature:"),
        "signed with the kept secret: {head}"
    );

    let again = tempfile::tempdir().unwrap();
    let r = sync("pull", again.path(), base, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for file in auto_files(again.path()) {
        clean("a second pull", &std::fs::read_to_string(file).unwrap());
    }
    drop(server);
}
