//! An in-memory [`Host`] for tests and offline tools: records in a map (each
//! with its JSON text, kept in step with every write, so that a plugin's read
//! is a copy of that text), every effect recorded (with `applied` false in
//! dry-run), a fixed clock and an optional SSRF-safe http client. It must never
//! be used as the production host: it has no persistence and no outbox.
//!
//! [`TextHost`] is the benchmarks' host: records as JSON texts, updates dropped.

use crate::host::{
    CallInfo, Email, Host, HostResult, HttpRequest, HttpResponse, LogLevel, NewTask, json_text,
};
use crate::net::HttpClient;
pub use crate::text_host::TextHost;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One side effect a plugin asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    /// `record.create`, `record.update`, `email.send`, `notify.user`,
    /// `notify.channel`, `task.create`, `http.fetch`.
    pub kind: String,
    pub payload: Value,
    /// False in dry-run: recorded, not performed.
    pub applied: bool,
}

/// One log line a plugin wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

/// A record and its JSON text (what `records.get` hands a plugin).
#[derive(Debug)]
struct Stored {
    fields: Map<String, Value>,
    text: String,
}

impl Stored {
    fn new(fields: Map<String, Value>) -> Stored {
        Stored {
            text: json_text(&fields),
            fields,
        }
    }

    /// Applies an update; the text is printed again only when a field changed.
    fn update(&mut self, fields: Map<String, Value>) {
        let mut changed = false;
        for (name, value) in fields {
            if self.fields.get(&name) != Some(&value) {
                self.fields.insert(name, value);
                changed = true;
            }
        }
        if changed {
            self.text = json_text(&self.fields);
        }
    }
}

/// The in-memory host.
#[derive(Debug, Default)]
pub struct MemoryHost {
    /// Object -> id -> record: looked up by borrowed names, no key built per read.
    records: Mutex<BTreeMap<String, BTreeMap<String, Stored>>>,
    effects: Mutex<Vec<Effect>>,
    logs: Mutex<Vec<LogLine>>,
    next_id: Mutex<u64>,
    http: Option<HttpClient>,
}

impl MemoryHost {
    pub fn new() -> Self {
        MemoryHost::default()
    }

    /// A host whose http.fetch goes through `client`; without one, http fails.
    pub fn with_http(client: HttpClient) -> Self {
        MemoryHost {
            http: Some(client),
            ..MemoryHost::default()
        }
    }

    /// Adds or replaces a record (its `id` field is set to `id`).
    pub fn insert(&self, object: &str, id: &str, mut fields: Map<String, Value>) {
        fields.insert("id".into(), Value::String(id.into()));
        self.records
            .lock()
            .expect("lock")
            .entry(object.into())
            .or_default()
            .insert(id.into(), Stored::new(fields));
    }

    /// The record as stored now.
    pub fn record(&self, object: &str, id: &str) -> Option<Map<String, Value>> {
        self.records
            .lock()
            .expect("lock")
            .get(object)
            .and_then(|records| records.get(id))
            .map(|stored| stored.fields.clone())
    }

    pub fn effects(&self) -> Vec<Effect> {
        self.effects.lock().expect("lock").clone()
    }

    pub fn logs(&self) -> Vec<LogLine> {
        self.logs.lock().expect("lock").clone()
    }

    fn record_effect(&self, call: &CallInfo, kind: &str, payload: Value) {
        let effect = Effect {
            kind: kind.into(),
            payload,
            applied: !call.dry_run,
        };
        self.effects.lock().expect("lock").push(effect);
    }

    fn new_id(&self, call: &CallInfo, prefix: &str) -> String {
        let mut next = self.next_id.lock().expect("lock");
        *next += 1;
        if call.dry_run {
            format!("dry-{prefix}-{next}")
        } else {
            format!("{prefix}-{next}")
        }
    }
}

impl Host for MemoryHost {
    fn record_get(&self, _call: &CallInfo, object: &str, id: &str) -> HostResult<Option<Value>> {
        Ok(self.record(object, id).map(Value::Object))
    }

    fn record_get_text(
        &self,
        _call: &CallInfo,
        object: &str,
        id: &str,
    ) -> HostResult<Option<String>> {
        let records = self.records.lock().expect("lock");
        let stored = records.get(object).and_then(|records| records.get(id));
        Ok(stored.map(|stored| stored.text.clone()))
    }

    fn record_query(
        &self,
        _call: &CallInfo,
        object: &str,
        filter: &Map<String, Value>,
        limit: u32,
    ) -> HostResult<Vec<Value>> {
        let records = self.records.lock().expect("lock");
        let Some(records) = records.get(object) else {
            return Ok(Vec::new());
        };
        Ok(records
            .values()
            .map(|stored| &stored.fields)
            .filter(|fields| filter.iter().all(|(k, v)| fields.get(k) == Some(v)))
            .take(limit as usize)
            .map(|fields| Value::Object(fields.clone()))
            .collect())
    }

    fn record_create(
        &self,
        call: &CallInfo,
        object: &str,
        fields: Map<String, Value>,
    ) -> HostResult<String> {
        let id = self.new_id(call, object);
        self.record_effect(
            call,
            "record.create",
            serde_json::json!({"object": object, "id": id, "fields": fields}),
        );
        if !call.dry_run {
            self.insert(object, &id, fields);
        }
        Ok(id)
    }

    fn record_update(
        &self,
        call: &CallInfo,
        object: &str,
        id: &str,
        fields: Map<String, Value>,
    ) -> HostResult<()> {
        let mut records = self.records.lock().expect("lock");
        let Some(stored) = records
            .get_mut(object)
            .and_then(|records| records.get_mut(id))
        else {
            return Err(format!("{object} {id} not found"));
        };
        let payload = Map::from_iter([
            ("object".to_string(), Value::from(object)),
            ("id".to_string(), Value::from(id)),
            ("fields".to_string(), Value::Object(fields.clone())),
        ]);
        self.record_effect(call, "record.update", Value::Object(payload));
        if !call.dry_run {
            stored.update(fields);
        }
        Ok(())
    }

    fn email_send(&self, call: &CallInfo, email: Email) -> HostResult<()> {
        self.record_effect(
            call,
            "email.send",
            serde_json::to_value(email).map_err(|e| e.to_string())?,
        );
        Ok(())
    }

    fn notify_user(&self, call: &CallInfo, user_id: &str, message: &str) -> HostResult<()> {
        self.record_effect(
            call,
            "notify.user",
            serde_json::json!({"user_id": user_id, "message": message}),
        );
        Ok(())
    }

    fn notify_channel(&self, call: &CallInfo, channel: &str, message: &str) -> HostResult<()> {
        self.record_effect(
            call,
            "notify.channel",
            serde_json::json!({"channel": channel, "message": message}),
        );
        Ok(())
    }

    fn task_create(&self, call: &CallInfo, task: NewTask) -> HostResult<String> {
        let id = self.new_id(call, "task");
        let mut payload = serde_json::to_value(task).map_err(|e| e.to_string())?;
        payload["id"] = Value::String(id.clone());
        self.record_effect(call, "task.create", payload);
        Ok(id)
    }

    fn http_fetch(&self, call: &CallInfo, request: HttpRequest) -> HostResult<HttpResponse> {
        let client = self
            .http
            .as_ref()
            .ok_or("http is not configured on this host")?;
        let response = client.fetch(&request, call).map_err(|e| e.to_string())?;
        self.record_effect(call, "http.fetch", serde_json::json!({"method": request.method, "url": request.url, "status": response.status}));
        Ok(response)
    }

    fn log(&self, _call: &CallInfo, level: LogLevel, message: &str, fields: &[(String, String)]) {
        let line = LogLine {
            level,
            message: message.into(),
            fields: fields.to_vec(),
        };
        self.logs.lock().expect("lock").push(line);
    }

    /// A fixed instant (2026-01-01T00:00:00Z) so tests are deterministic.
    fn now(&self, _call: &CallInfo) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }
}

/// A call of plugin `p@1.0.0` in workspace `ws` with no capabilities, for the hosts' unit
/// tests.
#[cfg(test)]
pub(crate) fn test_call() -> CallInfo {
    CallInfo {
        workspace: "ws".into(),
        run_id: "r".into(),
        step_id: "s".into(),
        plugin: "p@1.0.0".into(),
        dry_run: false,
        deadline: std::time::Instant::now(),
        requested: Default::default(),
        granted: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::test_call as call;
    use super::*;
    use serde_json::json;

    fn text(host: &MemoryHost, id: &str) -> Option<Value> {
        let text = host.record_get_text(&call(), "lead", id).unwrap()?;
        Some(serde_json::from_str(&text).unwrap())
    }

    #[test]
    fn a_read_as_text_sees_every_write() {
        let host = MemoryHost::new();
        host.insert(
            "lead",
            "l1",
            json!({"score": 1}).as_object().cloned().unwrap(),
        );
        assert_eq!(text(&host, "l1"), Some(json!({"score": 1, "id": "l1"})));
        let update = |fields: Value| {
            let fields = fields.as_object().cloned().unwrap();
            host.record_update(&call(), "lead", "l1", fields).unwrap();
        };
        update(json!({"score": 1}));
        assert_eq!(text(&host, "l1"), Some(json!({"score": 1, "id": "l1"})));
        update(json!({"score": 2, "title": "VP"}));
        assert_eq!(
            text(&host, "l1"),
            Some(json!({"score": 2, "id": "l1", "title": "VP"}))
        );
        assert_eq!(text(&host, "l2"), None);
        assert_eq!(
            host.effects().len(),
            2,
            "a write that changes nothing is still an effect"
        );
    }
}
