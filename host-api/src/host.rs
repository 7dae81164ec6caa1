//! The `Host` trait: the capabilities a plugin can reach, implemented by the
//! runtime (and by [`crate::testing::MemoryHost`] in tests), plus the per-call
//! context types. Capability checks, host-call counting, deadlines and the
//! dry-run rule for http happen *before* a `Host` method is called
//! (`crate::state`), so implementations never re-check grants; they must
//! honour [`CallInfo::dry_run`] for every side effect.

use crate::capability::{Capability, CapabilitySet};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// What a `Host` method knows about the call it serves.
#[derive(Debug, Clone)]
pub struct CallInfo {
    pub workspace: Arc<str>,
    pub run_id: Arc<str>,
    pub step_id: Arc<str>,
    /// `name@version` of the plugin.
    pub plugin: Arc<str>,
    /// Record side effects instead of applying them; writes return synthetic ids.
    pub dry_run: bool,
    /// When the call's wall-clock budget ends; blocking work (http) must stop by then.
    pub deadline: Instant,
    pub(crate) requested: Arc<CapabilitySet>,
    pub(crate) granted: Arc<CapabilitySet>,
}

impl CallInfo {
    /// Whether the plugin holds `capability` (requested and granted). The
    /// http client uses it to re-check redirects to another host.
    pub fn allows(&self, capability: &Capability) -> bool {
        self.requested.allows(capability) && self.granted.allows(capability)
    }
}

/// The caller's side of one plugin call (shared strings, `Arc<str>`: a call copies none
/// of them).
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    pub workspace: Arc<str>,
    pub run_id: Arc<str>,
    pub step_id: Arc<str>,
    pub dry_run: bool,
    /// Capabilities an admin granted to this plugin; the effective set is
    /// this ∩ the manifest's requested set.
    pub granted: Arc<CapabilitySet>,
    /// Answers for http.fetch in dry-run (nothing is sent in dry-run).
    pub http_mocks: Vec<HttpMock>,
}

/// A canned http response used in dry-run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpMock {
    /// Matches any method when `None`; case-insensitive otherwise.
    #[serde(default)]
    pub method: Option<String>,
    /// Matches the request URL exactly.
    pub url: String,
    pub response: HttpResponse,
}

/// An outgoing email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// A record reference (`object` + `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    pub object: String,
    pub id: String,
}

/// A human task a plugin asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
    pub assignee: Option<String>,
    /// RFC 3339.
    pub due_at: Option<String>,
    pub related: Option<RecordRef>,
}

/// An http request from a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// An http response to a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Vec<u8>,
}

/// Log levels of the `log` interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Error text returned to the plugin (it sees it as `err(string)`).
pub type HostResult<T> = Result<T, String>;

/// The capabilities a plugin can use; the runtime implements this over its
/// storage and effect path. Methods are synchronous: plugin calls run on a
/// blocking thread. Every method receives the call's [`CallInfo`].
pub trait Host: Send + Sync + 'static {
    /// The record, or `None` if it does not exist. Reads see live data even in dry-run.
    fn record_get(&self, call: &CallInfo, object: &str, id: &str) -> HostResult<Option<Value>>;

    /// The record as JSON text, or `None` if it does not exist: what a plugin receives.
    /// Override it where records are at hand as text (a stored JSON column, a cache) to
    /// spare building a `Value` and printing it again on every plugin read.
    fn record_get_text(
        &self,
        call: &CallInfo,
        object: &str,
        id: &str,
    ) -> HostResult<Option<String>> {
        let record = self.record_get(call, object, id)?;
        Ok(record.as_ref().map(json_text))
    }

    /// Records whose fields equal every entry of `filter`, at most `limit`.
    fn record_query(
        &self,
        call: &CallInfo,
        object: &str,
        filter: &Map<String, Value>,
        limit: u32,
    ) -> HostResult<Vec<Value>>;

    /// Creates a record; returns its id (synthetic in dry-run).
    fn record_create(
        &self,
        call: &CallInfo,
        object: &str,
        fields: Map<String, Value>,
    ) -> HostResult<String>;

    /// Updates a record (recorded, not applied, in dry-run).
    fn record_update(
        &self,
        call: &CallInfo,
        object: &str,
        id: &str,
        fields: Map<String, Value>,
    ) -> HostResult<()>;

    fn email_send(&self, call: &CallInfo, email: Email) -> HostResult<()>;

    fn notify_user(&self, call: &CallInfo, user_id: &str, message: &str) -> HostResult<()>;

    fn notify_channel(&self, call: &CallInfo, channel: &str, message: &str) -> HostResult<()>;

    /// Creates a task; returns its id (synthetic in dry-run).
    fn task_create(&self, call: &CallInfo, task: NewTask) -> HostResult<String>;

    /// Performs an http request; never called in dry-run (mocks answer
    /// there). Implementations should use [`crate::net::HttpClient`], which
    /// enforces the address policy and the call deadline.
    fn http_fetch(&self, call: &CallInfo, request: HttpRequest) -> HostResult<HttpResponse>;

    fn log(&self, call: &CallInfo, level: LogLevel, message: &str, fields: &[(String, String)]);

    /// The time plugins see; override for deterministic tests.
    fn now(&self, _call: &CallInfo) -> SystemTime {
        SystemTime::now()
    }
}

/// `value` as compact JSON text. Printed into a byte buffer by serde_json (cheaper than
/// `Value`'s `Display`, which goes through a formatter adapter).
pub(crate) fn json_text(value: &impl Serialize) -> String {
    // Serializing a `Value` or a map of them cannot fail (keys are strings).
    serde_json::to_string(value).expect("a JSON value serializes")
}
