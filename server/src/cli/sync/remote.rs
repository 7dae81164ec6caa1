//! The API client of `pull`, `plan` and `apply`: the server and token from the flags or
//! from `AUTOMATIONS_SERVER` / `AUTOMATIONS_TOKEN`.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde_json::Value;

use super::RemoteArgs;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
/// Seconds to wait for a connection (`--connect-timeout`, `AUTOMATIONS_CONNECT_TIMEOUT`).
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 10.0;
/// Seconds to wait for one request's whole answer (`--timeout`, `AUTOMATIONS_TIMEOUT`):
/// an `apply` of 500 changes is one request, so this is generous.
pub const DEFAULT_TIMEOUT: f64 = 60.0;

pub struct Remote {
    base: String,
    /// `base` as messages show it: without a password it may carry.
    shown: String,
    token: String,
    http: reqwest::Client,
    /// The request timeout, to name it when it passes.
    timeout: Duration,
}

/// One automation as the server has it (archived ones are left out).
pub struct ServerAutomation {
    pub id: String,
    pub name: String,
    pub version: i64,
    /// The definition with the live status and environment.
    pub definition: Value,
}

impl Remote {
    pub fn new(args: &RemoteArgs) -> anyhow::Result<Remote> {
        let server = args
            .server
            .clone()
            .or_else(|| std::env::var("AUTOMATIONS_SERVER").ok())
            .unwrap_or_else(|| DEFAULT_SERVER.to_string());
        let Some(token) = args
            .token
            .clone()
            .or_else(|| std::env::var("AUTOMATIONS_TOKEN").ok())
        else {
            bail!("no token: pass --token or set AUTOMATIONS_TOKEN");
        };
        let connect_timeout = seconds(
            "--connect-timeout",
            args.connect_timeout,
            "AUTOMATIONS_CONNECT_TIMEOUT",
            DEFAULT_CONNECT_TIMEOUT,
        )?;
        let timeout = seconds(
            "--timeout",
            args.timeout,
            "AUTOMATIONS_TIMEOUT",
            DEFAULT_TIMEOUT,
        )?;
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .build()
            .context("cannot set up the HTTP client")?;
        let base = format!("{}/api/v1", server.trim_end_matches('/'));
        Ok(Remote {
            shown: without_password(&base),
            base,
            token,
            http,
            timeout,
        })
    }

    /// Every automation of the token's workspace that is not archived, oldest first.
    pub async fn automations(&self) -> anyhow::Result<Vec<ServerAutomation>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/automations?limit=500", self.base);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page = self.send(self.http.get(&url)).await?;
            for item in page["items"].as_array().into_iter().flatten() {
                if let Some(a) = server_automation(item) {
                    out.push(a);
                }
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        out.reverse();
        Ok(out)
    }

    /// `POST /automations/validate` of one automation's `.auto` text.
    pub async fn validate(&self, dsl: &str) -> anyhow::Result<Value> {
        let url = format!("{}/automations/validate", self.base);
        let request = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(dsl.to_string());
        self.send(request).await
    }

    /// `POST /automations/apply`; the server's answer.
    pub async fn apply(&self, changes: Vec<Value>) -> anyhow::Result<Value> {
        let url = format!("{}/automations/apply", self.base);
        let body = serde_json::json!({ "changes": changes });
        self.send(self.http.post(&url).json(&body)).await
    }

    /// `POST /automations/{id}/backtest`; the queued job.
    pub async fn start_backtest(&self, id: &str, body: &Value) -> anyhow::Result<Value> {
        let url = format!("{}/automations/{id}/backtest", self.base);
        self.send(self.http.post(&url).json(body)).await
    }

    /// `GET /automations/{id}/backtests/{backtest_id}`.
    pub async fn backtest(&self, id: &str, backtest_id: &str) -> anyhow::Result<Value> {
        let url = format!("{}/automations/{id}/backtests/{backtest_id}", self.base);
        self.send(self.http.get(&url)).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = match request.bearer_auth(&self.token).send().await {
            Ok(response) => response,
            Err(e) => return Err(self.failure(e)),
        };
        let status = response.status();
        let asked = without_password(response.url().as_str());
        // A body cut by the timeout is a failure, not an empty answer.
        let bytes = response.bytes().await.map_err(|e| self.failure(e))?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            let mut text = error_text(status, &body);
            if status == reqwest::StatusCode::NOT_FOUND
                && body["error"]["message"] == "no such route"
            {
                // The route itself is unknown: most often a base URL with `/api/v1` twice.
                text.push_str(&format!(
                    "\n  asked {asked}; --server (AUTOMATIONS_SERVER) is the server's address, \
                     e.g. http://127.0.0.1:8080, without /api/v1"
                ));
            }
            bail!("{text}");
        }
        Ok(body)
    }
}

impl Remote {
    /// A failed exchange as a user reads it: a timeout names the limit and how to raise
    /// it; the URL is left out of reqwest's text (it is `self.shown` already).
    fn failure(&self, e: reqwest::Error) -> anyhow::Error {
        if e.is_timeout() {
            let which = if e.is_connect() {
                "connecting (--connect-timeout, AUTOMATIONS_CONNECT_TIMEOUT)".to_string()
            } else {
                format!(
                    "{} s for an answer (--timeout, AUTOMATIONS_TIMEOUT)",
                    self.timeout.as_secs_f64()
                )
            };
            return anyhow!(
                "the server at {} did not answer in time: gave up after {which}",
                self.shown
            );
        }
        // reqwest's own text is "error sending request"; the cause (e.g. "Connection
        // refused") is further down the chain.
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !causes.contains(&text) {
                causes.push(text);
            }
            source = cause.source();
        }
        let mut text = e.without_url().to_string();
        for cause in causes {
            text.push_str(": ");
            text.push_str(&cause);
        }
        anyhow!("cannot reach the server at {}: {text}", self.shown)
    }
}

/// `url` with its password, if it has one, shown as `***` (a `--server` may carry one for
/// a proxy; messages name the server, never the password).
fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// A positive number of seconds from the flag, else the environment, else the default.
fn seconds(flag: &str, given: Option<f64>, env: &str, default: f64) -> anyhow::Result<Duration> {
    let (value, from) = match given {
        Some(v) => (v, flag.to_string()),
        None => match std::env::var(env) {
            Ok(text) => (
                text.trim()
                    .parse::<f64>()
                    .with_context(|| format!("{env}={text:?} is not a number of seconds"))?,
                env.to_string(),
            ),
            Err(_) => (default, String::new()),
        },
    };
    if !(value.is_finite() && value > 0.0 && value <= 86_400.0) {
        bail!("{from} must be a number of seconds above 0 and at most 86400, not {value}");
    }
    Ok(Duration::from_secs_f64(value))
}

fn server_automation(item: &Value) -> Option<ServerAutomation> {
    if item["status"] == "archived" {
        return None;
    }
    let mut definition = item["definition"].clone();
    if let Value::Object(m) = &mut definition {
        m.insert("status".into(), item["status"].clone());
        m.insert("environment".into(), item["environment"].clone());
    }
    Some(ServerAutomation {
        id: item["id"].as_str()?.to_string(),
        name: item["name"].as_str()?.to_string(),
        version: item["version"].as_i64()?,
        definition,
    })
}

/// The server's error as a user reads it: status, message and each diagnostic.
fn error_text(status: reqwest::StatusCode, body: &Value) -> String {
    let error = &body["error"];
    let mut text = format!(
        "the server answered {status}: {}",
        error["message"].as_str().unwrap_or("(no message)")
    );
    for d in error["diagnostics"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "\n  {} {}: {}",
            d["severity"].as_str().unwrap_or("error"),
            d["code"].as_str().unwrap_or(""),
            d["message"].as_str().unwrap_or("")
        ));
        for note in d["notes"].as_array().into_iter().flatten() {
            text.push_str(&format!("\n    note: {}", note.as_str().unwrap_or("")));
        }
    }
    text
}
