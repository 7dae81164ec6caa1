//! `HostRunner`: the runtime's `PluginRunner` over [`PluginRegistry`], and the per-call
//! `Host` the plugin sees. Reads go to the engine's record store (live data, also in
//! dry-run); writes, emails, notifications and tasks are collected as `EffectRequest`s and
//! handed back to the runtime, which applies them in the step's transaction or, in dry-run,
//! records them with `applied: false`. This module must never apply an effect itself.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use automations_compiler::catalog::{TaskRecord, task_record};
use automations_compiler::retry::ErrorClass;
use automations_host_api::net::HttpClient;
use automations_host_api::{
    CallContext, CallInfo, Email, Host, HostResult, HttpRequest, HttpResponse, LogBuffer, LogLevel,
    LogLimits, LogLine, NewTask, PluginError,
};
use automations_runtime::RuntimeError;
use automations_runtime::hooks::{
    EffectRequest, PluginCall, PluginFailure, PluginFuture, PluginResult, PluginRunner,
};
use automations_runtime::model::StepLog;
use serde_json::{Map, Value, json};
use tokio::runtime::Handle;

use super::registry::PluginRegistry;
use crate::state::Engine;

/// Runs plugin steps. The engine is attached after it is built (it owns this runner), which
/// makes a reference cycle: both live as long as the process, which is what a server wants.
pub struct HostRunner {
    registry: Arc<PluginRegistry>,
    engine: OnceLock<Engine>,
    http: HttpClient,
}

impl HostRunner {
    pub fn new(registry: Arc<PluginRegistry>, http: HttpClient) -> Self {
        HostRunner {
            registry,
            engine: OnceLock::new(),
            http,
        }
    }

    /// Gives the runner the engine whose records plugins read (once).
    pub fn attach(&self, engine: Engine) {
        let _ = self.engine.set(engine);
    }

    async fn run_call(&self, call: PluginCall) -> Result<PluginResult, PluginFailure> {
        let (plugin, granted) = self
            .registry
            .resolve(&call.workspace_id, &call.plugin, call.version.as_deref())
            .map_err(|e| e.to_string())?;
        let engine = self
            .engine
            .get()
            .cloned()
            .ok_or_else(|| "the plugin runner is not attached to an engine".to_string())?;
        let host = Arc::new(CallHost {
            engine,
            handle: Handle::current(),
            http: self.http.clone(),
            effects: Mutex::new(Vec::new()),
            logs: Mutex::new(LogBuffer::new(LogLimits::default())),
            created: AtomicU32::new(0),
            http_failed: AtomicBool::new(false),
        });
        let ctx = CallContext {
            workspace: call.workspace_id.as_str().into(),
            run_id: call.run_id.as_str().into(),
            step_id: call.step_id.as_str().into(),
            dry_run: call.dry_run,
            granted,
            http_mocks: Vec::new(),
        };
        let id = plugin.id().to_string();
        let dyn_host: Arc<dyn Host> = host.clone();
        // Guest code blocks (and host reads block on the runtime): keep it off the workers.
        let result =
            tokio::task::spawn_blocking(move || plugin.call(dyn_host, &ctx, &call.input)).await;
        let logs = host.take_logs();
        let failure = |message: String, class: Option<ErrorClass>| PluginFailure {
            message,
            logs: logs.clone(),
            class,
        };
        let output = result
            .map_err(|e| {
                self.registry.count_failure("host_crash");
                failure(format!("plugin {id} crashed: {e}"), None)
            })?
            .map_err(|e| {
                self.registry.count_failure(e.kind());
                let class = failure_class(&e, host.http_failed.load(Ordering::Relaxed));
                failure(format!("plugin {id} failed: {e}"), class)
            })?;
        let effects = std::mem::take(&mut *host.effects.lock().expect("effects lock"));
        Ok(PluginResult {
            output: output.output,
            effects,
            logs,
        })
    }
}

/// Which failures a step's retry policy may retry (DESIGN §6): a call past its time limit,
/// and an error the plugin returned after one of its `http` requests failed on the network
/// or was answered 408, 429 or 5xx (`http`), or without that (`plugin_error`). Traps,
/// panics and exhausted limits would happen again.
fn failure_class(e: &PluginError, http_failed: bool) -> Option<ErrorClass> {
    match e {
        PluginError::Timeout { .. } => Some(ErrorClass::Timeout),
        PluginError::Guest(_) if http_failed => Some(ErrorClass::Http),
        PluginError::Guest(_) => Some(ErrorClass::PluginError),
        _ => None,
    }
}

impl PluginRunner for HostRunner {
    fn run(&self, call: PluginCall) -> PluginFuture<'_> {
        Box::pin(self.run_call(call))
    }
}

/// The host of one call.
struct CallHost {
    engine: Engine,
    handle: Handle,
    http: HttpClient,
    effects: Mutex<Vec<EffectRequest>>,
    /// What the plugin logged, bounded; stored on the step.
    logs: Mutex<LogBuffer>,
    created: AtomicU32,
    /// An `http` request of this call failed transiently (network, 408, 429, 5xx).
    http_failed: AtomicBool,
}

impl CallHost {
    fn take_logs(&self) -> Vec<StepLog> {
        let buffer = std::mem::take(&mut *self.logs.lock().unwrap_or_else(|p| p.into_inner()));
        buffer.finish().into_iter().map(step_log).collect()
    }

    fn push(&self, effect: EffectRequest) {
        self.effects.lock().expect("effects lock").push(effect);
    }

    /// Records and tasks are created by the runtime after the call, so the plugin gets a
    /// placeholder id naming the step's n-th creation.
    fn pending_id(&self, call: &CallInfo) -> String {
        let n = self.created.fetch_add(1, Ordering::Relaxed);
        format!("pending:{}:{}:{n}", call.run_id, call.step_id)
    }
}

impl Host for CallHost {
    fn record_get(&self, call: &CallInfo, object: &str, id: &str) -> HostResult<Option<Value>> {
        match self
            .handle
            .block_on(self.engine.record(&call.workspace, object, id))
        {
            Ok(record) => Ok(Some(Value::Object(record.to_json()))),
            Err(RuntimeError::NotFound { what: "record", .. }) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    fn record_query(
        &self,
        call: &CallInfo,
        object: &str,
        filter: &Map<String, Value>,
        limit: u32,
    ) -> HostResult<Vec<Value>> {
        let page = self
            .handle
            .block_on(self.engine.query_records(
                &call.workspace,
                object,
                filter,
                limit.min(500),
                None,
            ))
            .map_err(|e| e.to_string())?;
        Ok(page
            .items
            .iter()
            .map(|r| Value::Object(r.to_json()))
            .collect())
    }

    fn record_create(
        &self,
        call: &CallInfo,
        object: &str,
        fields: Map<String, Value>,
    ) -> HostResult<String> {
        self.push(EffectRequest::CreateRecord {
            object: object.to_string(),
            fields,
        });
        Ok(self.pending_id(call))
    }

    fn record_update(
        &self,
        _call: &CallInfo,
        object: &str,
        id: &str,
        fields: Map<String, Value>,
    ) -> HostResult<()> {
        self.push(EffectRequest::UpdateRecord {
            object: object.to_string(),
            id: id.to_string(),
            fields,
        });
        Ok(())
    }

    fn email_send(&self, _call: &CallInfo, email: Email) -> HostResult<()> {
        self.push(EffectRequest::Email {
            to: email.to,
            cc: Vec::new(),
            subject: email.subject,
            body: email.body,
        });
        Ok(())
    }

    fn notify_user(&self, _call: &CallInfo, user_id: &str, message: &str) -> HostResult<()> {
        self.push(EffectRequest::Notify {
            user_id: user_id.to_string(),
            message: message.to_string(),
        });
        Ok(())
    }

    fn notify_channel(&self, _call: &CallInfo, channel: &str, message: &str) -> HostResult<()> {
        self.push(EffectRequest::Slack {
            text: message.to_string(),
            target: Some(channel.to_string()),
        });
        Ok(())
    }

    fn task_create(&self, call: &CallInfo, task: NewTask) -> HostResult<String> {
        // The same `task` record as the built-in `create_task` action (the catalog's shape).
        let fields = task_record(TaskRecord {
            subject: json!(task.title),
            description: task.description.map(Value::String),
            assignee: task.assignee.map(Value::String),
            due: task.due_at.map(Value::String),
            related: task.related.map(|r| (r.object, r.id)),
        });
        self.push(EffectRequest::CreateRecord {
            object: "task".into(),
            fields,
        });
        Ok(self.pending_id(call))
    }

    fn http_fetch(&self, call: &CallInfo, request: HttpRequest) -> HostResult<HttpResponse> {
        let result = self.http.fetch(&request, call);
        let transient = match &result {
            Ok(response) => matches!(response.status, 408 | 429 | 500..=599),
            Err(e) => e.is_transient(),
        };
        if transient {
            self.http_failed.store(true, Ordering::Relaxed);
        }
        result.map_err(|e| e.to_string())
    }

    fn log(&self, call: &CallInfo, level: LogLevel, message: &str, fields: &[(String, String)]) {
        tracing::debug!(plugin = %call.plugin, run_id = %call.run_id, ?level, "{message}");
        self.logs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(level, message, fields);
    }
}

fn step_log(line: LogLine) -> StepLog {
    let level = match line.level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    StepLog {
        level: level.to_string(),
        message: line.message,
        fields: line
            .fields
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_timeouts_and_the_plugins_own_errors_are_transient() {
        let guest = || PluginError::Guest("no".into());
        let cases = [
            (
                PluginError::Timeout { limit_ms: 5 },
                false,
                Some(ErrorClass::Timeout),
            ),
            (guest(), true, Some(ErrorClass::Http)),
            (guest(), false, Some(ErrorClass::PluginError)),
            (PluginError::OutOfFuel { limit: 1 }, true, None),
            (
                PluginError::Panic {
                    message: "p".into(),
                    backtrace: Vec::new(),
                },
                false,
                None,
            ),
            (PluginError::HostCallLimit { limit: 1 }, true, None),
            (
                PluginError::OutputTooLarge { size: 2, limit: 1 },
                false,
                None,
            ),
            (PluginError::Internal("x".into()), false, None),
        ];
        for (error, http_failed, class) in cases {
            assert_eq!(
                failure_class(&error, http_failed),
                class,
                "{error:?} {http_failed}"
            );
        }
    }
}
