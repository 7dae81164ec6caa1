//! The `throughput` group: the seed automation (critical case -> assign to queue + Slack
//! to a local sink) end to end through HTTP on the real release binary, `automations
//! serve` on a temporary SQLite file, loopback only.
//!
//! A closed-loop load client: T tokens x C connections, each connection one task sending
//! one request after the other (`POST /api/v1/records/case`, or with `--batch N` the
//! batch endpoint `POST /api/v1/records/case:batch` with N cases; a server that answers
//! 404/405 there has none and the mode is skipped), for a bounded time and count. Then
//! the completed runs are polled (`/metrics`) until every accepted case has its run.
//! A last, open-loop mode sends single creates at a fixed rate below saturation
//! (`--rate`), for the case-to-effect latency a lone integration sees.
//! Reported: requests/s, cases accepted/s, completed runs/s (first request to last
//! completed run), p50/p99 latency, idle and peak RSS (`/proc/PID/status`), start to
//! healthy.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::measure::{Budget, quantile};

const ADMIN_TOKEN: &str = "bench-admin-token";
const SEED: &str = r#"{
  "name": "Auto-assign high-priority cases",
  "trigger": { "event": "case.created", "conditions": { "priority": "critical" } },
  "actions": [
    { "type": "assign_to_queue", "params": { "queue_id": "q_escalations" } },
    { "type": "send_notification", "params": { "channel": "slack", "message": "Critical case {{ id }} created" } }
  ],
  "status": "active"
}"#;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The server binary (default: $CARGO_TARGET_DIR or target, then release/automations).
    #[arg(long)]
    pub bin: Option<PathBuf>,
    /// Load seconds per mode (bounded; default 10, 3 with --quick).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Requests per mode at most.
    #[arg(long, default_value_t = 200_000)]
    pub max_requests: u64,
    /// Cases per batch request in the batch mode.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Cases per second in the paced (open-loop) mode, which measures case-to-effect
    /// latency below saturation.
    #[arg(long, default_value_t = 50)]
    pub rate: u32,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            bin: None,
            seconds: None,
            max_requests: 200_000,
            batch: 100,
            rate: 50,
        }
    }
}

fn default_bin() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release/automations")
}

/// One load mode's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Mode {
    pub name: String,
    pub tokens: usize,
    pub connections_per_token: usize,
    /// Cases per request (1: single creates).
    pub cases_per_request: usize,
    pub seconds: f64,
    pub requests: u64,
    pub requests_per_s: f64,
    pub cases_accepted: u64,
    pub cases_accepted_per_s: f64,
    /// Accepted cases over the time from the first request to the last completed run.
    pub completed_runs_per_s: f64,
    pub runs_completed: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub peak_rss_mb: f64,
    /// The server's CPU time (user and system, all threads) from the mode's first request
    /// until its last Slack message arrived, per completed run: what one run costs,
    /// delivery included, however busy the machine was.
    pub server_cpu_us_per_run: f64,
    /// Slack messages the sink received for this mode's cases (one per run).
    pub effects_delivered: u64,
    /// Delivered messages over the time from the first request to the last delivery.
    pub effects_delivered_per_s: f64,
    /// From a case's request being sent to its Slack message reaching the sink (single
    /// creates only: a batch's cases share one request).
    pub case_to_effect_p50_ms: Option<f64>,
    pub case_to_effect_p99_ms: Option<f64>,
    /// The server's group-commit writer over the mode (from its `/metrics`; absent when the
    /// binary does not count it).
    pub writer: Option<Writer>,
}

/// What the group-commit writer did during a mode: how full its groups were, how busy it
/// was, and where a group's time went.
#[derive(Debug, Clone, Serialize)]
pub struct Writer {
    pub groups: u64,
    pub requests_per_group: f64,
    /// Its busy time over the mode's time until the last run completed (1: never idle).
    pub busy_share: f64,
    pub group_us: f64,
    /// Of which starting the transaction (waiting for the database's writer connection).
    pub begin_us: f64,
    /// Of which committing (the rows held back for the commit, then the commit).
    pub commit_us: f64,
}

/// The counters of one `/metrics` scrape the bench reads.
#[derive(Debug, Clone, Copy, Default)]
struct Scrape {
    completed: u64,
    /// groups, requests, busy s, begin s, commit s; `None` when the server lacks them.
    writer: Option<[f64; 5]>,
}

const WRITER_COUNTERS: [&str; 5] = [
    "automations_write_groups_total",
    "automations_write_group_requests_total",
    "automations_write_group_seconds_total",
    "automations_write_group_begin_seconds_total",
    "automations_write_group_commit_seconds_total",
];

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let value = |name: &str| {
            text.lines().find_map(|l| {
                l.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
        };
        let completed = value("automations_runs{status=\"completed\"}").unwrap_or(0.0) as u64;
        let writer: Option<Vec<f64>> = WRITER_COUNTERS.iter().map(|n| value(n)).collect();
        Scrape {
            completed,
            writer: writer.and_then(|w| w.try_into().ok()),
        }
    }

    /// The writer's figures from `self` (at the mode's start) to `end`, over `secs`.
    fn writer_since(&self, end: &Scrape, secs: f64) -> Option<Writer> {
        let (a, b) = (self.writer?, end.writer?);
        let d: Vec<f64> = a.iter().zip(b).map(|(a, b)| b - a).collect();
        let groups = d[0].max(1.0);
        Some(Writer {
            groups: d[0] as u64,
            requests_per_group: d[1] / groups,
            busy_share: d[2] / secs.max(1e-9),
            group_us: d[2] * 1e6 / groups,
            begin_us: d[3] * 1e6 / groups,
            commit_us: d[4] * 1e6 / groups,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub binary: String,
    pub binary_mb: f64,
    pub start_to_healthy_ms: f64,
    pub idle_rss_mb: f64,
    pub modes: Vec<Mode>,
    /// Modes left out, and why (e.g. no batch endpoint on this server).
    pub skipped: Vec<String>,
}

/// A running server, killed on drop.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// CPU time the server has used so far, user and system, in seconds
    /// (`/proc/PID/stat`, in ticks of 1/100 s, the kernel's `USER_HZ` on Linux).
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The fields after the command name, which is in parentheses: utime and stime are
        // the 14th and 15th fields of the line, the 12th and 13th after the name.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let ticks: Vec<f64> = after
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|t| t.parse().ok())
            .collect();
        ticks.iter().sum::<f64>() / 100.0
    }

    /// VmRSS or VmHWM of the server process, MB.
    fn rss_mb(&self, key: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

fn start(bin: &PathBuf, sink: &str) -> anyhow::Result<(Server, Instant)> {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--database-url", &db])
        .args(["--slack-webhook-url", sink, "--webhook-allow-private"])
        .env("AUTOMATIONS_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("listening on ") {
                    break url.trim().to_string();
                }
            }
            _ => {
                let _ = child.kill();
                anyhow::bail!("{} exited before listening", bin.display());
            }
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok((
        Server {
            child,
            base,
            _dir: dir,
        },
        started,
    ))
}

/// What the Slack stand-in received: per case id (read from the message text), when.
#[derive(Clone, Default)]
struct Arrivals(Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>>);

impl Arrivals {
    fn record(&self, body: &[u8]) {
        let text = serde_json::from_slice::<Value>(body).ok();
        let id = text
            .as_ref()
            .and_then(|v| v["text"].as_str())
            .and_then(|t| t.strip_prefix("Critical case "))
            .and_then(|t| t.split_whitespace().next());
        if let Some(id) = id {
            let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(id.to_string()).or_insert_with(Instant::now);
        }
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn get(&self, id: &str) -> Option<Instant> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .copied()
    }

    fn latest(&self) -> Option<Instant> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .max()
            .copied()
    }
}

/// A local Slack stand-in: answers 200 to every request and notes each case's arrival.
/// Like Slack's webhook endpoint it keeps the connection open for the next request
/// (HTTP/1.1 keep-alive), so the deliverer's connection pool is measured as it is used.
async fn sink(arrivals: Arrivals) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(sink_connection(socket, arrivals.clone()));
        }
    });
    Ok(url)
}

/// Serves one sink connection: every complete request in the buffer is answered in
/// turn, until the client closes it.
async fn sink_connection(mut socket: tokio::net::TcpStream, arrivals: Arrivals) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while let Some(used) = one_request(&data, &arrivals) {
            data.drain(..used);
            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
            if socket.write_all(answer).await.is_err() {
                return;
            }
        }
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// The length of the first request in `data` when it is complete (its body noted as an
/// arrival), else `None`.
fn one_request(data: &[u8], arrivals: &Arrivals) -> Option<usize> {
    let end = data.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&data[..end]);
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
        .unwrap_or(0);
    let total = end + 4 + length;
    if data.len() < total {
        return None;
    }
    arrivals.record(&data[end + 4..total]);
    Some(total)
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let mut request = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// Completed runs and the writer's counters, from `/metrics`.
async fn scrape(http: &reqwest::Client, base: &str) -> anyhow::Result<Scrape> {
    let text = http
        .get(format!("{base}/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?
        .text()
        .await?;
    Ok(Scrape::parse(&text))
}

struct Load {
    tokens: usize,
    connections: usize,
    batch: usize,
    seconds: u64,
    max_requests: u64,
    /// Open loop: single creates sent at this many per second whatever the answers take
    /// (`connections` is then ignored); `None` is the closed loop.
    rate: Option<u32>,
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    requests: u64,
    accepted: u64,
    errors: u64,
    /// 404/405 on the batch endpoint.
    missing: bool,
    /// Single creates: each created case's id and when its request was sent.
    sent_at: Vec<(String, Instant)>,
}

async fn connection(
    url: String,
    token: String,
    batch: usize,
    deadline: Instant,
    (sent, max): (Arc<AtomicU64>, u64),
) -> Tally {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .expect("an HTTP client");
    let mut tally = Tally::default();
    let mut i = 0u64;
    let case = |i: u64| json!({"subject": format!("Checkout down {i}"), "priority": "critical"});
    while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < max {
        let body = if batch == 0 {
            case(i)
        } else {
            json!({"items": (0..batch as u64).map(|k| case(i + k)).collect::<Vec<_>>()})
        };
        i += batch.max(1) as u64;
        let started = Instant::now();
        let answer = call(
            &http,
            reqwest::Method::POST,
            url.clone(),
            &token,
            Some(body),
        )
        .await;
        tally.latencies.push(started.elapsed());
        tally.requests += 1;
        match (batch, answer) {
            (0, Ok((201, body))) => {
                tally.accepted += 1;
                if let Some(id) = body["id"].as_str() {
                    tally.sent_at.push((id.to_string(), started));
                }
            }
            (b, Ok((200, body))) if b > 0 => {
                tally.accepted += body["created"].as_u64().unwrap_or(0);
            }
            (b, Ok((404 | 405, _))) if b > 0 => {
                tally.missing = true;
                return tally;
            }
            _ => tally.errors += 1,
        }
    }
    tally
}

/// The open loop: one single create every `1/rate` s on one token, each sent on its tick
/// whether or not the earlier ones were answered (so a slow answer shows as latency, not
/// as a lower rate), over a pooled keep-alive client.
async fn paced(url: String, token: String, rate: u32, deadline: Instant, max: u64) -> Tally {
    let http = reqwest::Client::new();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent = tokio::task::JoinSet::new();
    let mut i = 0u64;
    while Instant::now() < deadline && i < max {
        ticks.tick().await;
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        let body = json!({"subject": format!("Paced case {i}"), "priority": "critical"});
        i += 1;
        sent.spawn(async move {
            let started = Instant::now();
            let answer = call(&http, reqwest::Method::POST, url, &token, Some(body)).await;
            (started, started.elapsed(), answer)
        });
    }
    let mut tally = Tally::default();
    while let Some(done) = sent.join_next().await {
        let Ok((started, took, answer)) = done else {
            tally.errors += 1;
            continue;
        };
        tally.latencies.push(took);
        tally.requests += 1;
        match answer {
            Ok((201, body)) => {
                tally.accepted += 1;
                if let Some(id) = body["id"].as_str() {
                    tally.sent_at.push((id.to_string(), started));
                }
            }
            _ => tally.errors += 1,
        }
    }
    tally
}

async fn load(
    server: &Server,
    tokens: &[String],
    spec: &Load,
    arrivals: &Arrivals,
) -> anyhow::Result<Option<Mode>> {
    let delivered_before = arrivals.len() as u64;
    let http = reqwest::Client::new();
    let at_start = scrape(&http, &server.base).await?;
    let before = at_start.completed;
    let cpu_before = server.cpu_seconds();
    let url = if spec.batch == 0 {
        format!("{}/api/v1/records/case", server.base)
    } else {
        format!("{}/api/v1/records/case:batch", server.base)
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(spec.seconds);
    let sent = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = match spec.rate {
        Some(rate) => vec![tokio::spawn(paced(
            url.clone(),
            tokens[0].clone(),
            rate,
            deadline,
            spec.max_requests,
        ))],
        None => tokens[..spec.tokens]
            .iter()
            .flat_map(|t| std::iter::repeat_n(t.clone(), spec.connections))
            .map(|token| {
                tokio::spawn(connection(
                    url.clone(),
                    token,
                    spec.batch,
                    deadline,
                    (sent.clone(), spec.max_requests),
                ))
            })
            .collect(),
    };
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await?;
        all.latencies.extend(t.latencies);
        all.requests += t.requests;
        all.accepted += t.accepted;
        all.errors += t.errors;
        all.missing |= t.missing;
        all.sent_at.extend(t.sent_at);
    }
    if all.missing {
        return Ok(None);
    }
    let sent = started.elapsed();
    // Wait (bounded) for every accepted case's run.
    let wait_until = Instant::now() + Duration::from_secs(120);
    let mut at_end = scrape(&http, &server.base).await?;
    while at_end.completed - before < all.accepted && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
        at_end = scrape(&http, &server.base).await?;
    }
    let runs = at_end.completed - before;
    let finished = started.elapsed();
    let writer = at_start.writer_since(&at_end, finished.as_secs_f64());
    // And (bounded) for every run's Slack message.
    let wait_until = Instant::now() + Duration::from_secs(120);
    while (arrivals.len() as u64) < delivered_before + runs && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let effects_delivered = arrivals.len() as u64 - delivered_before;
    let cpu = server.cpu_seconds() - cpu_before;
    let last_effect = match arrivals.latest() {
        Some(t) if effects_delivered > 0 => t - started,
        _ => finished,
    };
    let mut to_effect: Vec<Duration> = all
        .sent_at
        .iter()
        .filter_map(|(id, sent)| arrivals.get(id).map(|at| at - *sent))
        .collect();
    to_effect.sort();
    all.latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let secs = sent.as_secs_f64();
    Ok(Some(Mode {
        name: String::new(),
        tokens: spec.tokens,
        connections_per_token: spec.connections,
        cases_per_request: spec.batch.max(1),
        seconds: secs,
        requests: all.requests,
        requests_per_s: all.requests as f64 / secs,
        cases_accepted: all.accepted,
        cases_accepted_per_s: all.accepted as f64 / secs,
        completed_runs_per_s: runs as f64 / finished.as_secs_f64(),
        runs_completed: runs,
        p50_ms: ms(quantile(&all.latencies, 0.5)),
        p99_ms: ms(quantile(&all.latencies, 0.99)),
        errors: all.errors,
        peak_rss_mb: server.rss_mb("VmHWM:"),
        server_cpu_us_per_run: cpu * 1e6 / runs.max(1) as f64,
        effects_delivered,
        effects_delivered_per_s: effects_delivered as f64 / last_effect.as_secs_f64(),
        case_to_effect_p50_ms: (!to_effect.is_empty()).then(|| ms(quantile(&to_effect, 0.5))),
        case_to_effect_p99_ms: (!to_effect.is_empty()).then(|| ms(quantile(&to_effect, 0.99))),
        writer,
    }))
}

async fn run_async(
    args: &Args,
    budget: &Budget,
    log: &mut dyn FnMut(&str),
) -> anyhow::Result<Report> {
    let bin = args.bin.clone().unwrap_or_else(default_bin);
    anyhow::ensure!(
        bin.exists(),
        "{} not found: build it with `cargo build --release -p automations-server` or pass --bin",
        bin.display()
    );
    let arrivals = Arrivals::default();
    let sink = sink(arrivals.clone()).await?;
    let (server, spawned) = start(&bin, &sink)?;
    let http = reqwest::Client::new();
    // Healthy: the first 200 of /healthz.
    let healthy = loop {
        if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await
            && r.status() == 200
        {
            break spawned.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let idle_rss_mb = server.rss_mb("VmRSS:");
    let admin = |path: &str, body: Value| {
        call(
            &http,
            reqwest::Method::POST,
            format!("{}/api/v1{path}", server.base),
            ADMIN_TOKEN,
            Some(body),
        )
    };
    let (status, answer) = admin(
        "/records/queue",
        json!({"id": "q_escalations", "name": "Escalations"}),
    )
    .await?;
    anyhow::ensure!(status == 201, "creating the queue: {status} {answer}");
    let (status, answer) = admin("/automations", serde_json::from_str(SEED)?).await?;
    anyhow::ensure!(status == 201, "creating the seed: {status} {answer}");
    let mut tokens = Vec::new();
    for i in 0..4 {
        let (status, answer) = admin(
            "/tokens",
            json!({"name": format!("load {i}"), "scopes": ["admin"], "rate_limit": "off"}),
        )
        .await?;
        anyhow::ensure!(status == 201, "creating a token: {status} {answer}");
        tokens.push(answer["token"].as_str().unwrap_or_default().to_string());
    }
    let seconds = args
        .seconds
        .unwrap_or(if budget.rounds <= 2 { 3 } else { 10 });
    let paced_name = format!("paced single creates, {} per second, 1 token", args.rate);
    let plan = [
        ("single creates, 4 tokens x 4 connections", 4, 4, 0, None),
        ("single creates, 1 token x 16 connections", 1, 16, 0, None),
        ("batch, 1 token x 4 connections", 1, 4, args.batch, None),
        (paced_name.as_str(), 1, 1, 0, Some(args.rate)),
    ];
    let mut modes = Vec::new();
    let mut skipped = Vec::new();
    for (name, t, c, batch, rate) in plan {
        log(&format!("throughput: {name}"));
        let spec = Load {
            tokens: t,
            connections: c,
            batch,
            seconds,
            max_requests: args.max_requests,
            rate,
        };
        match load(&server, &tokens, &spec, &arrivals).await? {
            Some(mut mode) => {
                mode.name = name.to_string();
                modes.push(mode);
            }
            None => skipped.push(format!(
                "{name}: the server has no batch endpoint (404/405)"
            )),
        }
    }
    let binary_mb = std::fs::metadata(&bin).map_or(0.0, |m| m.len() as f64 / 1e6);
    Ok(Report {
        binary: bin.display().to_string(),
        binary_mb,
        start_to_healthy_ms: healthy.as_secs_f64() * 1e3,
        idle_rss_mb,
        modes,
        skipped,
    })
}

pub fn run(args: &Args, budget: &Budget, log: &mut dyn FnMut(&str)) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_async(args, budget, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(completed: u64, writer: Option<[f64; 5]>) -> String {
        let mut text = format!(
            "# TYPE automations_runs gauge\nautomations_runs{{status=\"completed\"}} {completed}\n"
        );
        for (name, v) in WRITER_COUNTERS.iter().zip(writer.into_iter().flatten()) {
            text.push_str(&format!("# TYPE {name} counter\n{name} {v}\n"));
        }
        text
    }

    #[test]
    fn the_writer_over_a_mode_is_the_difference_of_two_scrapes() {
        let start = Scrape::parse(&metrics(10, Some([5.0, 20.0, 0.5, 0.1, 0.2])));
        let end = Scrape::parse(&metrics(110, Some([105.0, 820.0, 1.5, 0.3, 0.7])));
        assert_eq!(end.completed - start.completed, 100);
        let w = start.writer_since(&end, 2.0).unwrap();
        assert_eq!(w.groups, 100);
        assert!((w.requests_per_group - 8.0).abs() < 1e-9);
        assert!((w.busy_share - 0.5).abs() < 1e-9);
        assert!((w.group_us - 10_000.0).abs() < 1e-6);
        assert!((w.begin_us - 2_000.0).abs() < 1e-6);
        assert!((w.commit_us - 5_000.0).abs() < 1e-6);
    }

    #[test]
    fn a_server_without_the_writer_counters_has_no_writer_figures() {
        let start = Scrape::parse(&metrics(0, None));
        let end = Scrape::parse(&metrics(3, None));
        assert_eq!(end.completed, 3);
        assert!(start.writer_since(&end, 1.0).is_none());
    }
}
