//! The per-call store data: who is calling (workspace, run, step), the
//! capability sets, limits and counters, plus the implementations of the WIT
//! imports. Every import first passes [`CallState::enter`]: it counts the
//! call, enforces the deadline and checks the capability, so a `Host` method
//! is only reached by an allowed, in-budget call. This module must never hand
//! a guest anything the effective capability set does not cover.

use crate::bindings::automations::plugin::{clock, email, http, log, notify, records, tasks};
use crate::capability::Capability;
use crate::host::{self, CallInfo, Host, HttpMock, LogLevel};
use crate::manifest::Limits;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How much of the guest's stderr is kept (panic messages are short).
const STDERR_CAPTURE_BYTES: usize = 8 << 10;

/// A host-side reason to stop the guest; travels inside the trap error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostTrap {
    #[error("host call limit of {0} reached")]
    HostCallLimit(u32),
    #[error("deadline passed during a host call")]
    Deadline,
    /// A deny stub was called (the function's full name).
    #[error("`{0}` is denied")]
    Denied(String),
}

/// Store data of one call.
pub(crate) struct CallState {
    pub host: Arc<dyn Host>,
    pub info: CallInfo,
    pub http_mocks: Vec<HttpMock>,
    pub limits: Limits,
    pub host_calls: u32,
    pub limiter: MemoryLimiter,
    /// Built on first use: most plugins never touch WASI.
    wasi: Option<WasiCtx>,
    stderr: Option<MemoryOutputPipe>,
    table: ResourceTable,
}

impl CallState {
    pub fn new(
        host: Arc<dyn Host>,
        info: CallInfo,
        http_mocks: Vec<HttpMock>,
        limits: Limits,
    ) -> Self {
        CallState {
            host,
            info,
            http_mocks,
            limits,
            host_calls: 0,
            limiter: MemoryLimiter::new(limits.memory_bytes),
            wasi: None,
            stderr: None,
            table: ResourceTable::new(),
        }
    }

    /// What the guest wrote to stderr (its panic message, if it panicked).
    pub fn stderr_text(&self) -> String {
        self.stderr
            .as_ref()
            .map(|pipe| String::from_utf8_lossy(&pipe.contents()).into_owned())
            .unwrap_or_default()
    }

    /// Counts a host call and checks the deadline (both trap) and the
    /// capability (an error the guest sees).
    fn enter(&mut self, needs: Option<&Capability>) -> wasmtime::Result<Result<(), String>> {
        self.host_calls += 1;
        if self.host_calls > self.limits.max_host_calls {
            return Err(wasmtime::Error::new(HostTrap::HostCallLimit(
                self.limits.max_host_calls,
            )));
        }
        if Instant::now() >= self.info.deadline {
            return Err(wasmtime::Error::new(HostTrap::Deadline));
        }
        let Some(capability) = needs else {
            return Ok(Ok(()));
        };
        if !self.info.requested.allows(capability) {
            return Ok(Err(format!(
                "capability `{capability}` denied: not requested in the manifest of {}",
                self.info.plugin
            )));
        }
        if !self.info.granted.allows(capability) {
            return Ok(Err(format!(
                "capability `{capability}` denied: not granted to {} by an admin",
                self.info.plugin
            )));
        }
        Ok(Ok(()))
    }

    fn dry_run_http(&self, request: &host::HttpRequest) -> Result<host::HttpResponse, String> {
        self.http_mocks
            .iter()
            .find(|mock| {
                mock.url == request.url
                    && mock
                        .method
                        .as_ref()
                        .is_none_or(|m| m.eq_ignore_ascii_case(&request.method))
            })
            .map(|mock| mock.response.clone())
            .ok_or_else(|| {
                format!(
                    "http {} {} not performed in dry-run (no mock for it)",
                    request.method, request.url
                )
            })
    }
}

/// Runs `body` after `enter` let the call through.
macro_rules! guarded {
    ($state:ident, $needs:expr, $body:expr) => {{
        if let Err(denied) = $state.enter($needs)? {
            return Ok(Err(denied));
        }
        Ok($body)
    }};
}

fn parse_object(text: &str, what: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("{what} must be a JSON object")),
        Err(err) => Err(format!("{what} is not valid JSON: {err}")),
    }
}

fn to_text(value: &Value) -> String {
    host::json_text(value)
}

/// The object a records capability names. The capability owns the guest's string, so a
/// records call checks it without copying the name.
fn object_of(capability: &Capability) -> &str {
    match capability {
        Capability::RecordsRead(object) | Capability::RecordsWrite(object) => object,
        _ => "",
    }
}

impl records::Host for CallState {
    fn get(
        &mut self,
        object: String,
        id: String,
    ) -> wasmtime::Result<Result<Option<String>, String>> {
        let cap = Capability::RecordsRead(object);
        guarded!(self, Some(&cap), {
            self.host.record_get_text(&self.info, object_of(&cap), &id)
        })
    }

    fn query(
        &mut self,
        object: String,
        filter: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<String>, String>> {
        let cap = Capability::RecordsRead(object);
        guarded!(self, Some(&cap), {
            parse_object(&filter, "filter").and_then(|filter| {
                let found = self
                    .host
                    .record_query(&self.info, object_of(&cap), &filter, limit)?;
                Ok(found.iter().map(to_text).collect())
            })
        })
    }

    fn create(
        &mut self,
        object: String,
        fields: String,
    ) -> wasmtime::Result<Result<String, String>> {
        let cap = Capability::RecordsWrite(object);
        guarded!(self, Some(&cap), {
            parse_object(&fields, "fields")
                .and_then(|fields| self.host.record_create(&self.info, object_of(&cap), fields))
        })
    }

    fn update(
        &mut self,
        object: String,
        id: String,
        fields: String,
    ) -> wasmtime::Result<Result<(), String>> {
        let cap = Capability::RecordsWrite(object);
        guarded!(self, Some(&cap), {
            parse_object(&fields, "fields").and_then(|fields| {
                self.host
                    .record_update(&self.info, object_of(&cap), &id, fields)
            })
        })
    }
}

impl email::Host for CallState {
    fn send(&mut self, message: email::Message) -> wasmtime::Result<Result<(), String>> {
        guarded!(self, Some(&Capability::EmailSend), {
            let email = host::Email {
                to: message.to,
                subject: message.subject,
                body: message.body,
            };
            self.host.email_send(&self.info, email)
        })
    }
}

impl notify::Host for CallState {
    fn user(&mut self, user_id: String, message: String) -> wasmtime::Result<Result<(), String>> {
        guarded!(self, Some(&Capability::Notify), {
            self.host.notify_user(&self.info, &user_id, &message)
        })
    }

    fn channel(
        &mut self,
        channel: String,
        message: String,
    ) -> wasmtime::Result<Result<(), String>> {
        guarded!(self, Some(&Capability::Notify), {
            self.host.notify_channel(&self.info, &channel, &message)
        })
    }
}

impl tasks::Host for CallState {
    fn create(&mut self, task: tasks::NewTask) -> wasmtime::Result<Result<String, String>> {
        guarded!(self, Some(&Capability::TasksCreate), {
            let task = host::NewTask {
                title: task.title,
                description: task.description,
                assignee: task.assignee,
                due_at: task.due_at,
                related: task.related.map(|r| host::RecordRef {
                    object: r.object,
                    id: r.id,
                }),
            };
            self.host.task_create(&self.info, task)
        })
    }
}

impl http::Host for CallState {
    fn fetch(
        &mut self,
        request: http::Request,
    ) -> wasmtime::Result<Result<http::Response, String>> {
        let request = host::HttpRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        };
        let host_name = match url_host(&request.url) {
            Ok(host) => host,
            Err(err) => {
                let _always_allowed = self.enter(None)?;
                return Ok(Err(err));
            }
        };
        guarded!(self, Some(&Capability::HttpFetch(host_name)), {
            // Nothing leaves the host in dry-run, whatever the Host does.
            let response = if self.info.dry_run {
                self.dry_run_http(&request)
            } else {
                self.host.http_fetch(&self.info, request)
            };
            response.map(|r| http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            })
        })
    }
}

/// The host name of an http(s) URL, lower-cased, for the capability check.
fn url_host(url: &str) -> Result<String, String> {
    crate::net::url_host(url).map_err(|err| format!("invalid URL `{url}`: {err}"))
}

impl log::Host for CallState {
    fn log(
        &mut self,
        level: log::Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        // `log` has no error result: without the capability the line is dropped.
        if self.enter(Some(&Capability::Log))?.is_ok() {
            let level = match level {
                log::Level::Trace => LogLevel::Trace,
                log::Level::Debug => LogLevel::Debug,
                log::Level::Info => LogLevel::Info,
                log::Level::Warn => LogLevel::Warn,
                log::Level::Error => LogLevel::Error,
            };
            self.host.log(&self.info, level, &message, &fields);
        }
        Ok(())
    }
}

impl clock::Host for CallState {
    fn now(&mut self) -> wasmtime::Result<clock::Datetime> {
        let _always_allowed = self.enter(None)?;
        let since_epoch = self
            .host
            .now(&self.info)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(clock::Datetime {
            seconds: since_epoch.as_secs() as i64,
            nanoseconds: since_epoch.subsec_nanos(),
        })
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        if self.wasi.is_none() {
            let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
            // Nothing granted: no preopens, env, args, network; stdout discarded.
            let ctx = WasiCtx::builder()
                .stderr(stderr.clone())
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build();
            self.stderr = Some(stderr);
            self.wasi = Some(ctx);
        }
        let ctx = self.wasi.as_mut().expect("built above");
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

/// `StoreLimits` that also remembers whether it refused a memory growth, so
/// the resulting trap can be reported as memory exhaustion.
pub(crate) struct MemoryLimiter {
    inner: StoreLimits,
    pub refused: Option<usize>,
}

impl MemoryLimiter {
    fn new(memory_bytes: u64) -> Self {
        let inner = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(memory_bytes).unwrap_or(usize::MAX))
            .build();
        MemoryLimiter {
            inner,
            refused: None,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if !allowed {
            self.refused = Some(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}
