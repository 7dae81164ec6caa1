//! One delivery attempt of one outbox item: email (SMTP or the local mailbox), Slack
//! (incoming webhook), webhook (signed HTTP request). Decides delivered / retry / dead;
//! never touches storage (the worker records the outcome).

use chrono::Utc;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;

use super::{OutboxConfig, resolve, signing};
use crate::model::{OutboxItem, OutboxKind};

#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    Delivered,
    /// No SMTP configured: the message goes to the local mailbox, and counts as delivered.
    LocalMail {
        to: Vec<String>,
        cc: Vec<String>,
        subject: String,
        body: String,
    },
    Retry(String),
    /// 429 or 503 with `Retry-After`: retry this item, and send nothing else to its
    /// destination, no sooner than `after`.
    Throttled {
        error: String,
        after: std::time::Duration,
    },
    Dead(String),
}

/// Holds the HTTP client and the SMTP transport, built once. The HTTP client is built on
/// the first Slack or webhook delivery: its TLS set-up (the root certificates, rustls) is
/// work and memory an idle server or one that only sends email never needs.
pub struct Deliverer {
    config: OutboxConfig,
    http: std::sync::OnceLock<reqwest::Client>,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl Deliverer {
    pub fn new(config: OutboxConfig) -> Deliverer {
        let smtp = config.smtp.as_ref().and_then(|s| {
            let builder = if s.insecure {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            } else {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).ok()?
            };
            let mut builder = builder.port(s.port).timeout(Some(config.request_timeout));
            if let (Some(u), Some(p)) = (&s.username, &s.password) {
                builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
            }
            Some(builder.build())
        });
        Deliverer {
            config,
            http: std::sync::OnceLock::new(),
            smtp,
        }
    }

    /// The HTTP client of Slack and webhook deliveries, built on first use. Every name is
    /// resolved once by the checked resolver, and the connection goes to an address it
    /// judged: no second lookup (DNS rebinding), no redirects followed.
    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(self.config.request_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .dns_resolver(resolve::CheckedResolve::shared(
                    self.config.address_policy(),
                    self.config.resolver.clone(),
                ))
                .build()
                .expect("HTTP client with default TLS builds")
        })
    }

    pub fn config(&self) -> &OutboxConfig {
        &self.config
    }

    /// Where an item goes, as concurrency and `Retry-After` are kept per destination:
    /// `host:port` of a webhook's URL or of the Slack webhook URL, `smtp` for email.
    pub fn destination(&self, item: &OutboxItem) -> String {
        let url = match item.kind {
            OutboxKind::Email => return "smtp".into(),
            OutboxKind::Slack => self.config.slack_webhook_url.clone().unwrap_or_default(),
            OutboxKind::Webhook => text(&item.payload, "url"),
        };
        match reqwest::Url::parse(&url) {
            Ok(u) => format!(
                "{}:{}",
                u.host_str().unwrap_or_default().to_ascii_lowercase(),
                u.port_or_known_default().unwrap_or(0)
            ),
            // Unparseable URLs fail at once; they share one key.
            Err(_) => "invalid".into(),
        }
    }

    pub async fn deliver(&self, item: &OutboxItem) -> DeliveryOutcome {
        match item.kind {
            OutboxKind::Email => self.email(item).await,
            OutboxKind::Slack => self.slack(item).await,
            OutboxKind::Webhook => self.webhook(item).await,
        }
    }

    async fn email(&self, item: &OutboxItem) -> DeliveryOutcome {
        let p = &item.payload;
        let (to, cc, subject, body) = (
            str_list(p.get("to")),
            str_list(p.get("cc")),
            text(p, "subject"),
            text(p, "body"),
        );
        if to.is_empty() {
            return DeliveryOutcome::Dead("email has no recipient".into());
        }
        let (Some(smtp), Some(conf)) = (&self.smtp, &self.config.smtp) else {
            return DeliveryOutcome::LocalMail {
                to,
                cc,
                subject,
                body,
            };
        };
        let message =
            match build_message(&conf.from, &to, &cc, &subject, &body, &item.idempotency_key) {
                Ok(m) => m,
                Err(e) => return DeliveryOutcome::Dead(e),
            };
        match smtp.send(message).await {
            Ok(_) => DeliveryOutcome::Delivered,
            Err(e) if e.is_permanent() => {
                DeliveryOutcome::Dead(format!("SMTP rejected the message: {e}"))
            }
            Err(e) => DeliveryOutcome::Retry(format!("SMTP error: {e}")),
        }
    }

    async fn slack(&self, item: &OutboxItem) -> DeliveryOutcome {
        let Some(url) = &self.config.slack_webhook_url else {
            return DeliveryOutcome::Dead(
                "no Slack webhook URL configured (start the server with --slack-webhook-url)"
                    .into(),
            );
        };
        let body = serde_json::json!({ "text": text(&item.payload, "text") });
        let req = self
            .http()
            .post(url)
            .header("Idempotency-Key", &item.idempotency_key)
            .json(&body);
        self.send(url, req).await
    }

    async fn webhook(&self, item: &OutboxItem) -> DeliveryOutcome {
        let p = &item.payload;
        let url = text(p, "url");
        let method = match p
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("POST")
            .to_ascii_uppercase()
            .parse()
        {
            Ok(m) => m,
            Err(_) => return DeliveryOutcome::Dead("invalid HTTP method".into()),
        };
        let body = match p.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.clone().into_bytes(),
            Some(v) => v.to_string().into_bytes(),
        };
        let ts = Utc::now().timestamp();
        let mut req = self
            .http()
            .request(method, &url)
            .header("content-type", "application/json")
            .header("webhook-id", &item.idempotency_key)
            .header("webhook-timestamp", ts.to_string());
        if let Some(secret) = p
            .get("secret")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            req = req.header(
                "webhook-signature",
                signing::sign(secret, &item.idempotency_key, ts, &body),
            );
        }
        if let Some(Value::Object(h)) = p.get("headers") {
            for (k, v) in h {
                req = req.header(
                    k.as_str(),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                );
            }
        }
        self.send(&url, req.body(body)).await
    }

    async fn send(&self, url: &str, req: reqwest::RequestBuilder) -> DeliveryOutcome {
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => {
                let url = crate::secrets::redact_text(url);
                return DeliveryOutcome::Dead(format!("invalid URL {url:?}"));
            }
        };
        // A literal address is never looked up, so the resolver cannot judge it: judge here.
        if let Some(denied) = resolve::denied_literal(&parsed, &self.config.address_policy()) {
            return DeliveryOutcome::Dead(refused(&denied));
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match (status, retry_after(resp.headers())) {
                    (429 | 503, Some(after)) => DeliveryOutcome::Throttled {
                        error: format!("HTTP {status} (Retry-After {}s)", after.as_secs()),
                        after,
                    },
                    _ => classify_status(status),
                }
            }
            Err(e) => match resolve::denial_in(&e) {
                Some(denied) => DeliveryOutcome::Dead(refused(&denied)),
                // The URL may carry credentials (and Slack's is one): never in the error.
                None => DeliveryOutcome::Retry(format!(
                    "request failed: {}",
                    resolve::error_chain(&e.without_url())
                )),
            },
        }
    }
}

fn refused(denied: &automations_net::AddressDenied) -> String {
    format!(
        "refused: {} is a private or loopback address ({}; allow with --webhook-allow-private)",
        denied.addr, denied.reason
    )
}

/// `Retry-After` as seconds or an HTTP date, capped at an hour (a receiver cannot park a
/// destination for longer); `None` when absent or unreadable.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let secs = match text.parse::<u64>() {
        Ok(secs) => secs,
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
            (at.with_timezone(&Utc) - Utc::now()).num_seconds().max(0) as u64
        }
    };
    Some(std::time::Duration::from_secs(secs.min(3600)))
}

/// 2xx delivered; 408, 429 and 5xx retried; any other status is final.
pub fn classify_status(status: u16) -> DeliveryOutcome {
    match status {
        200..=299 => DeliveryOutcome::Delivered,
        408 | 429 | 500..=599 => DeliveryOutcome::Retry(format!("HTTP {status}")),
        _ => DeliveryOutcome::Dead(format!("HTTP {status} (not retried)")),
    }
}

fn build_message(
    from: &str,
    to: &[String],
    cc: &[String],
    subject: &str,
    body: &str,
    key: &str,
) -> Result<Message, String> {
    let parse = |s: &str| {
        s.parse::<Mailbox>()
            .map_err(|e| format!("invalid address {s:?}: {e}"))
    };
    let mut b = Message::builder()
        .from(parse(from)?)
        .subject(subject)
        .message_id(Some(format!("<{key}@automations>")));
    for t in to {
        b = b.to(parse(t)?);
    }
    for c in cc {
        b = b.cc(parse(c)?);
    }
    b.header(ContentType::TEXT_PLAIN)
        .body(body.to_string())
        .map_err(|e| e.to_string())
}
