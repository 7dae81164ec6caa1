//! The API client of `pull`, `plan` and `apply`: the server and token from the flags or
//! from `AUTOMATIONS_SERVER` / `AUTOMATIONS_TOKEN`.

use anyhow::{Context, bail};
use serde_json::Value;

use super::RemoteArgs;

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

pub struct Remote {
    base: String,
    token: String,
    http: reqwest::Client,
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
        Ok(Remote {
            base: format!("{}/api/v1", server.trim_end_matches('/')),
            token,
            http: reqwest::Client::new(),
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
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{}", error_text(status, &body));
        }
        Ok(body)
    }
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
