//! Secrets canary, end to end on the real binary: canaries in a webhook's signing secret,
//! its `Authorization`, `X-Api-Key` and `Cookie` headers, the credentials of its URL, the
//! `--smtp-url` password, and a plugin step's input (a value under a sensitive key and a
//! token in a URL the plugin posts to). Deliveries and the plugin must get the real
//! values; no API answer (automations, versions, runs and steps, outbox, records, audit,
//! plugins), `/metrics` page or log line (at `debug`) may show any of them. A definition
//! sent back with the redacted placeholder keeps its secrets for the same step and
//! destination, and is refused for another destination.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::e2e::{Client, Server, TOKEN, items};
use crate::plugins::api::{BOUNDARY, multipart};
use crate::plugins::build::{component, manifest_text};

const BIN: &str = env!("CARGO_BIN_EXE_automations");
/// `whsec_` + base64 of the key `canary-signing-key-4711`.
const SECRET: &str = "whsec_Y2FuYXJ5LXNpZ25pbmcta2V5LTQ3MTE=";
const AUTH: &str = "canary-auth-2b8e";
const API_KEY: &str = "canary-apikey-7c1d";
const COOKIE: &str = "canary-cookie-5e0a";
const URL_PASSWORD: &str = "canary-urlpass-91f3";
const QUERY_TOKEN: &str = "canary-query-3d77";
const SMTP_PASSWORD: &str = "canary-smtppass-c4d2";
/// In the query of the URL a plugin step's input tells the plugin to post to.
const PLUGIN_URL_TOKEN: &str = "canary-pluginurl-8a61";
/// A plugin step's input value under a sensitive key (`session_token`).
const PLUGIN_SESSION: &str = "canary-pluginsession-0f5b";

fn canaries() -> Vec<&'static str> {
    vec![
        SECRET,
        "Y2FuYXJ5LXNpZ25pbmcta2V5LTQ3MTE",
        AUTH,
        API_KEY,
        COOKIE,
        URL_PASSWORD,
        QUERY_TOKEN,
        SMTP_PASSWORD,
        PLUGIN_URL_TOKEN,
        PLUGIN_SESSION,
    ]
}

/// One request a receiver got: its head (request line and headers) and body.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub(crate) head: String,
    pub(crate) body: String,
}

/// A webhook receiver answering 200 to every request.
pub(crate) async fn receiver() -> (u16, Arc<Mutex<Vec<Got>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 8192];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data).to_string();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            let l = l.to_ascii_lowercase();
                            l.strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0usize);
                    if data.len() >= end + 4 + length {
                        seen.lock().unwrap().push(Got {
                            head: text[..end].to_string(),
                            body: String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into(),
                        });
                        let _ = socket
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                            .await;
                        return;
                    }
                }
            });
        }
    });
    (port, got)
}

/// A minimal SMTP server offering `AUTH PLAIN`: keeps every line the client sent.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let (rd, mut wr) = socket.into_split();
                let mut rd = tokio::io::BufReader::new(rd);
                let _ = wr.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                loop {
                    let mut line = String::new();
                    if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    seen.lock().unwrap().push(line.trim_end().to_string());
                    let upper = line.to_ascii_uppercase();
                    let answer: &[u8] = if in_data {
                        if line.trim_end() == "." {
                            in_data = false;
                            b"250 queued\r\n"
                        } else {
                            continue;
                        }
                    } else if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 AUTH PLAIN LOGIN\r\n"
                    } else if upper.starts_with("AUTH") {
                        b"235 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = wr.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if wr.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, lines)
}

/// Starts `serve` logging at `debug` into `log`; stdout is kept too.
fn start(db_url: &str, smtp_url: &str, log: &std::path::Path) -> (Server, Arc<Mutex<String>>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", db_url])
        .args(["--smtp-url", smtp_url, "--webhook-allow-private"])
        .args(["--plugin-http-allow", "127.0.0.1"])
        .env("AUTOMATIONS_ADMIN_TOKEN", TOKEN)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("the automations binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let printed = Arc::new(Mutex::new(String::new()));
    let base = loop {
        let line = lines.next().expect("serve printed its URL").unwrap();
        printed.lock().unwrap().push_str(&line);
        printed.lock().unwrap().push('\n');
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.trim().to_string();
        }
    };
    let keep = printed.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep.lock().unwrap().push_str(&line);
            keep.lock().unwrap().push('\n');
        }
    });
    (Server { child, base }, printed)
}

fn definition(hook_port: u16, path: &str) -> Value {
    json!({
        "name": "Tell the billing system",
        "trigger": {"event": "case.created"},
        "actions": [
            {"id": "hook", "type": "webhook", "params": {
                "url": format!("http://billing:{URL_PASSWORD}@127.0.0.1:{hook_port}{path}?token={QUERY_TOKEN}&case={{{{ id }}}}"),
                "secret": SECRET,
                "headers": {
                    "Authorization": format!("Bearer {AUTH}"),
                    "X-Api-Key": API_KEY,
                    "Cookie": format!("sid={COOKIE}"),
                    "X-Case": "{{ subject }}"
                },
                "body": {"case": "{{ id }}"}
            }},
            {"id": "mail", "type": "send_email", "params": {
                "to": "ops@example.com", "subject": "Case {{ subject }}", "body": "new case"
            }},
            {"id": "dead_end", "type": "webhook", "params": {
                "url": format!("http://billing:{URL_PASSWORD}@127.0.0.1:9/nowhere"),
                "secret": SECRET
            }}
        ],
        "status": "active"
    })
}

/// A `plugin` step running the example `slack-formatter`: it posts the case to the URL of
/// its input, whose query holds a token; its `case` carries a value under a sensitive key.
fn plugin_definition(hook_port: u16) -> Value {
    json!({
        "name": "Post cases through the formatter plugin",
        "trigger": {"event": "case.created"},
        "actions": [
            {"id": "format", "type": "plugin", "params": {
                "plugin": "slack-formatter",
                "input": {
                    "webhook_url": format!("http://127.0.0.1:{hook_port}/slack?token={PLUGIN_URL_TOKEN}"),
                    "case": {"id": "{{ id }}", "subject": "{{ subject }}", "session_token": PLUGIN_SESSION}
                }
            }}
        ],
        "status": "active"
    })
}

/// Uploads the example `slack-formatter` and grants what its manifest asks for.
async fn install_formatter(client: &Client, keep: &mut impl FnMut(u16, &Value) -> Value) {
    let manifest = manifest_text("slack-formatter");
    let response = client
        .http
        .post(format!("{}/api/v1/plugins", client.base))
        .bearer_auth(&client.token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(&manifest, &component("slack-formatter")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let requested = serde_json::from_str::<Value>(&manifest).unwrap()["capabilities"].clone();
    let (status, body) = client
        .post(
            "/api/v1/plugins/slack-formatter/grants",
            json!({"capabilities": requested}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    keep(status, &body);
}

/// The requests a receiver got on `path`.
fn got_on(got: &Mutex<Vec<Got>>, path: &str) -> Vec<Got> {
    let line = format!("POST {path}");
    got.lock()
        .unwrap()
        .iter()
        .filter(|g| g.head.starts_with(&line))
        .cloned()
        .collect()
}

/// Waits until the receiver got `n` requests on `path`.
async fn wait_for_requests(got: &Mutex<Vec<Got>>, path: &str, n: usize) -> Vec<Got> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen = got_on(got, path);
        if seen.len() >= n {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "{n} requests on {path} never came: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for the plugin's post of the case `subject`, and checks that the plugin got the
/// real input: it posted to the URL with the real token.
async fn plugin_posted(got: &Mutex<Vec<Got>>, subject: &str) {
    let text = format!(": {subject} [");
    let deadline = Instant::now() + Duration::from_secs(30);
    let post = loop {
        let seen = got_on(got, "/slack");
        if let Some(post) = seen.into_iter().find(|g| g.body.contains(&text)) {
            break post;
        }
        assert!(
            Instant::now() < deadline,
            "the plugin never posted {subject}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        post.head
            .starts_with(&format!("POST /slack?token={PLUGIN_URL_TOKEN} ")),
        "{}",
        post.head
    );
}

/// Every canary found in `text`.
fn leaks(text: &str) -> Vec<&'static str> {
    canaries()
        .into_iter()
        .filter(|c| text.contains(c))
        .collect()
}

/// The Authorization header and signature check of a delivered webhook.
fn check_delivery(got: &Got) {
    let all = |name: &str| -> Vec<String> {
        got.head
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
            .collect()
    };
    let header = |name: &str| all(name).into_iter().next().unwrap_or_default();
    // The URL's user info goes as Basic credentials beside the step's own header.
    let authorization = all("authorization");
    assert!(
        authorization.contains(&format!("Bearer {AUTH}")),
        "{authorization:?}"
    );
    assert_eq!(header("x-api-key"), API_KEY);
    assert!(got.head.contains(QUERY_TOKEN), "{}", got.head);
    let id = header("webhook-id");
    let ts: i64 = header("webhook-timestamp").parse().unwrap();
    let wanted = automations_runtime::outbox::signing::sign(SECRET, &id, ts, got.body.as_bytes());
    assert_eq!(
        header("webhook-signature"),
        wanted,
        "signed with the real secret"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_is_answered_logged_or_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("canary.db").display());
    let log = dir.path().join("serve.log");
    let (hook_port, hooks) = receiver().await;
    let (smtp_port, smtp) = smtp_sink().await;
    let smtp_url = format!("smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:{smtp_port}");
    let (server, stdout) = start(&db_url, &smtp_url, &log);
    let client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: TOKEN.into(),
    };
    let mut answers = String::new();
    let mut keep = |status: u16, body: &Value| {
        answers.push_str(&format!("{status} {body}\n"));
        body.clone()
    };

    install_formatter(&client, &mut keep).await;
    let (status, created) = client
        .post("/api/v1/automations", definition(hook_port, "/in"))
        .await;
    assert_eq!(status, 201, "{created}");
    keep(status, &created);
    let id = created["id"].as_str().unwrap().to_string();
    let (status, created) = client
        .post("/api/v1/automations", plugin_definition(hook_port))
        .await;
    assert_eq!(status, 201, "{created}");
    keep(status, &created);
    let plugin_id = created["id"].as_str().unwrap().to_string();
    let (status, case) = client
        .post(
            "/api/v1/records/case",
            json!({"subject": "s1", "priority": "low"}),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    client
        .wait_for("/api/v1/outbox?kind=webhook", |b| {
            items(b).len() == 2 && items(b).iter().all(|i| i["attempts"].as_i64() >= Some(1))
        })
        .await;
    client
        .wait_for("/api/v1/outbox?kind=email", |b| {
            items(b).iter().any(|i| i["status"] == "delivered")
        })
        .await;

    // The deliveries and the plugin used the real values.
    let delivered = wait_for_requests(&hooks, "/in", 1).await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    check_delivery(&delivered[0]);
    plugin_posted(&hooks, "s1").await;
    let auth = smtp.lock().unwrap().clone();
    let plain = auth
        .iter()
        .find_map(|l| l.strip_prefix("AUTH PLAIN "))
        .map(|b64| {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        });
    assert!(
        plain.is_some_and(|p| p.contains(SMTP_PASSWORD)),
        "SMTP authenticated with the real password: {auth:?}"
    );

    // Every answer that could show them.
    let path = format!("/api/v1/automations/{id}");
    let plugin_path = format!("/api/v1/automations/{plugin_id}");
    let (status, current) = client.get(&path).await;
    keep(status, &current);
    assert_eq!(current["actions"][0]["params"]["secret"], "********");
    let (status, plugin_current) = client.get(&plugin_path).await;
    keep(status, &plugin_current);
    let input = &plugin_current["actions"][0]["params"]["input"];
    assert_eq!(input["case"]["session_token"], "********", "{input}");
    client
        .wait_for(&format!("{plugin_path}/runs"), |b| {
            items(b).iter().any(|r| r["status"] == "completed")
        })
        .await;
    for read in [
        "/api/v1/automations".to_string(),
        format!("{path}/versions"),
        format!("{path}/runs"),
        format!("{plugin_path}/versions"),
        format!("{plugin_path}/runs"),
        "/api/v1/outbox".into(),
        "/api/v1/outbox?kind=webhook".into(),
        "/api/v1/outbox?kind=email".into(),
        format!("/api/v1/records/case/{}", case["id"].as_str().unwrap()),
        "/api/v1/audit".into(),
        "/api/v1/plugins".into(),
    ] {
        let (status, body) = client.get(&read).await;
        assert_eq!(status, 200, "{read}: {body}");
        keep(status, &body);
        if let Some(automation) = read.strip_suffix("/runs") {
            for run in items(&body) {
                let run_id = run["id"].as_str().unwrap();
                let (status, full) = client.get(&format!("{automation}/runs/{run_id}")).await;
                let input = &full["steps"][0]["input"];
                if automation == path {
                    assert!(input["headers"]["Authorization"] == "********", "{full}");
                } else {
                    assert_eq!(full["steps"][0]["status"], "completed", "{full}");
                    assert_eq!(
                        input["input"]["case"]["session_token"], "********",
                        "{full}"
                    );
                    let url = input["input"]["webhook_url"].as_str().unwrap_or_default();
                    assert!(url.ends_with("/slack?token=********"), "{full}");
                }
                keep(status, &full);
            }
        }
    }
    let (status, checked) = client
        .post("/api/v1/automations/validate", definition(hook_port, "/in"))
        .await;
    keep(status, &checked);
    for automation in [&path, &plugin_path] {
        let (status, tested) = client
            .post(
                &format!("{automation}/test"),
                json!({"record": {"subject": "t", "priority": "low"}}),
            )
            .await;
        keep(status, &tested);
    }

    // Sent back as read, the definition keeps its secrets: the next delivery is signed.
    let mut back = current.clone();
    for k in [
        "id",
        "version",
        "created_at",
        "updated_at",
        "definition",
        "shadows_id",
    ] {
        back.as_object_mut().unwrap().remove(k);
    }
    back["name"] = json!("Tell the billing system (renamed)");
    let (status, put) = client
        .send(reqwest::Method::PUT, &path, Some(back.clone()))
        .await;
    assert_eq!(status, 200, "{put}");
    keep(status, &put);
    let mut plugin_back = plugin_current.clone();
    for k in [
        "id",
        "version",
        "created_at",
        "updated_at",
        "definition",
        "shadows_id",
    ] {
        plugin_back.as_object_mut().unwrap().remove(k);
    }
    let (status, put) = client
        .send(reqwest::Method::PUT, &plugin_path, Some(plugin_back))
        .await;
    assert_eq!(status, 200, "{put}");
    keep(status, &put);
    let (status, _) = client
        .post(
            "/api/v1/records/case",
            json!({"subject": "s2", "priority": "low"}),
        )
        .await;
    assert_eq!(status, 201);
    check_delivery(&wait_for_requests(&hooks, "/in", 2).await[1]);
    // The plugin step written back with placeholders still gets the real input.
    plugin_posted(&hooks, "s2").await;

    // The same placeholder towards another destination is refused, nothing changes.
    let mut moved = back.clone();
    moved["actions"][0]["params"]["url"] = json!(format!(
        "http://billing:********@127.0.0.1:{hook_port}/elsewhere"
    ));
    let (status, refused) = client.send(reqwest::Method::PUT, &path, Some(moved)).await;
    assert_eq!(status, 422, "{refused}");
    keep(status, &refused);
    let pointers: Vec<&str> = refused["error"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["pointer"].as_str())
        .collect();
    assert!(pointers.contains(&"/actions/0/params/secret"), "{refused}");
    assert!(
        pointers.contains(&"/actions/0/params/headers/Authorization"),
        "{refused}"
    );
    let (status, metrics) = metrics_text(&server.base).await;
    assert_eq!(status, 200);

    drop(server);
    let mut logged = String::new();
    std::fs::File::open(&log)
        .unwrap()
        .read_to_string(&mut logged)
        .unwrap();
    assert!(
        logged.contains("DEBUG"),
        "the server logged at debug: {logged:.400}"
    );
    let printed = stdout.lock().unwrap().clone();
    for (place, text) in [
        ("API answers", &answers),
        ("/metrics", &metrics),
        ("log", &logged),
        ("stdout", &printed),
    ] {
        assert!(leaks(text).is_empty(), "{place} shows {:?}", leaks(text));
    }
    // Sanity: the collected answers are the real ones (the placeholder is in them).
    assert!(answers.contains("********") && answers.contains("/actions/0/params/secret"));
}

async fn metrics_text(base: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}
