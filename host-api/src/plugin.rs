//! A prepared plugin and its call path: a fresh `Store` per call with the
//! call's context and limits, instantiate from the `InstancePre`, call `run`,
//! check the output, drop everything. Every guest failure becomes a
//! [`PluginError`]; nothing a guest does may panic or block the host beyond
//! the call's limits.

use crate::engine::{PluginEngine, Side};
use crate::error::PluginError;
use crate::host::{CallContext, CallInfo, Host};
use crate::manifest::{Limits, Manifest};
use crate::state::{CallState, HostTrap};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{ComponentExportIndex, InstancePre};
use wasmtime::{Store, Trap, WasmBacktrace};

/// A plugin version ready to run; cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

struct PluginInner {
    engine: PluginEngine,
    /// The wasmtime engine it was compiled for (metered only with a fuel limit).
    side: Arc<Side>,
    manifest: Manifest,
    id: Arc<str>,
    requested: Arc<crate::CapabilitySet>,
    limits: Limits,
    pre: InstancePre<CallState>,
    run: ComponentExportIndex,
}

/// The result of a successful call: the output parsed (`CallOutput<Value>`, the default)
/// or as the plugin wrote it (`CallOutput<String>`, checked to be JSON, from
/// [`Plugin::call_text`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutput<T = Value> {
    /// The plugin's output.
    pub output: T,
    /// Host calls the plugin made.
    pub host_calls: u32,
    /// Fuel used, when the plugin has a fuel limit.
    pub fuel_used: Option<u64>,
    pub elapsed: Duration,
}

/// `run` as called: the input is lent, the result lifted as owned strings.
///
/// The result must be copied out while the call is still in progress:
/// wasmtime runs the guest's post-return (which frees the result string)
/// before `call` returns, so a borrowed `WasmStr` read afterwards points at
/// memory the guest has freed and may already have reused. The copy is
/// bounded by the guest's own linear memory (at most its memory limit); the
/// output limit is checked on the copy.
type RunFn<'a> = wasmtime::component::TypedFunc<(&'a str,), (Result<String, String>,)>;

impl Plugin {
    pub(crate) fn new(
        engine: PluginEngine,
        side: Arc<Side>,
        manifest: Manifest,
        limits: Limits,
        pre: InstancePre<CallState>,
    ) -> Result<Self, PluginError> {
        let run = pre
            .component()
            .get_export_index(None, "run")
            .ok_or_else(|| PluginError::WorldMismatch("no `run` export".into()))?;
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                id: format!("{}@{}", manifest.name, manifest.version).into(),
                requested: Arc::new(manifest.requested()),
                engine,
                side,
                manifest,
                limits,
                pre,
                run,
            }),
        })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// `name@version`.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Runs the plugin on `input` (serialized to JSON text).
    pub fn call(
        &self,
        host: Arc<dyn Host>,
        ctx: &CallContext,
        input: &Value,
    ) -> Result<CallOutput, PluginError> {
        self.call_json(host, ctx, &input.to_string())
    }

    /// Runs the plugin on `input`, JSON text; the output parsed.
    pub fn call_json(
        &self,
        host: Arc<dyn Host>,
        ctx: &CallContext,
        input: &str,
    ) -> Result<CallOutput, PluginError> {
        self.call_parsed(host, ctx, input, |text| {
            serde_json::from_str::<Value>(&text)
        })
    }

    /// Runs the plugin on `input`, JSON text; the output as the plugin wrote it, checked
    /// to be one JSON value (without building it) and within the output limit. For callers
    /// that pass the output on as text.
    pub fn call_text(
        &self,
        host: Arc<dyn Host>,
        ctx: &CallContext,
        input: &str,
    ) -> Result<CallOutput<String>, PluginError> {
        self.call_parsed(host, ctx, input, |text| {
            serde_json::from_str::<serde::de::IgnoredAny>(&text).map(|_| text)
        })
    }

    /// One call; `parse` reads the output text (a syntax error is the plugin's invalid
    /// output).
    fn call_parsed<T>(
        &self,
        host: Arc<dyn Host>,
        ctx: &CallContext,
        input: &str,
        parse: impl FnOnce(String) -> serde_json::Result<T>,
    ) -> Result<CallOutput<T>, PluginError> {
        let limits = self.inner.limits;
        let size = input.len() as u64;
        if size > limits.max_input_bytes {
            return Err(PluginError::InputTooLarge {
                size,
                limit: limits.max_input_bytes,
            });
        }
        let started = Instant::now();
        let mut store = self.new_store(host, ctx, started)?;
        let result = self.instantiate_and_run(&mut store, input);
        let fuel_used = limits
            .fuel
            .map(|limit| limit - store.get_fuel().unwrap_or(0));
        match result {
            Ok(text) => Ok(CallOutput {
                output: parse(text).map_err(|e| PluginError::InvalidOutput(e.to_string()))?,
                host_calls: store.data().host_calls,
                fuel_used,
                elapsed: started.elapsed(),
            }),
            Err(RunError::Plugin(err)) => Err(err),
            Err(RunError::Wasm(err)) => Err(classify(err, store.data(), &limits)),
        }
    }

    fn new_store(
        &self,
        host: Arc<dyn Host>,
        ctx: &CallContext,
        started: Instant,
    ) -> Result<Store<CallState>, PluginError> {
        let limits = self.inner.limits;
        let info = CallInfo {
            workspace: ctx.workspace.clone(),
            run_id: ctx.run_id.clone(),
            step_id: ctx.step_id.clone(),
            plugin: self.inner.id.clone(),
            dry_run: ctx.dry_run,
            deadline: started + limits.timeout,
            requested: self.inner.requested.clone(),
            granted: ctx.granted.clone(),
        };
        let state = CallState::new(host, info, ctx.http_mocks.clone(), limits);
        let mut store = Store::new(&self.inner.side.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(self.inner.engine.epoch_ticks(limits.timeout));
        if self.inner.side.metered {
            let fuel = limits.fuel.unwrap_or(u64::MAX);
            store
                .set_fuel(fuel)
                .map_err(|err| PluginError::Internal(format!("{err:#}")))?;
        }
        Ok(store)
    }

    fn instantiate_and_run(
        &self,
        store: &mut Store<CallState>,
        input: &str,
    ) -> Result<String, RunError> {
        let instance = self.inner.pre.instantiate(&mut *store)?;
        let run: RunFn<'_> = instance.get_typed_func(&mut *store, &self.inner.run)?;
        let (result,) = run.call(&mut *store, (input,))?;
        let limit = store.data().limits.max_output_bytes;
        match result {
            Ok(text) => {
                check_size(text.len(), limit)?;
                Ok(text)
            }
            Err(text) => Err(plugin(PluginError::Guest(guest_error_text(text, limit)))),
        }
    }
}

enum RunError {
    Plugin(PluginError),
    Wasm(wasmtime::Error),
}

impl From<wasmtime::Error> for RunError {
    fn from(err: wasmtime::Error) -> Self {
        RunError::Wasm(err)
    }
}

fn plugin(err: PluginError) -> RunError {
    RunError::Plugin(err)
}

/// The guest's error message, cut to the output limit: an oversized message
/// still fails the step with the guest's own words rather than a size error.
fn guest_error_text(mut text: String, limit: u64) -> String {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if text.len() > limit {
        let size = text.len();
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(&format!("… (cut at {limit} of {size} bytes)"));
    }
    text
}

fn check_size(size: usize, limit: u64) -> Result<(), RunError> {
    if size as u64 > limit {
        return Err(plugin(PluginError::OutputTooLarge {
            size: size as u64,
            limit,
        }));
    }
    Ok(())
}

/// Turns a wasmtime error into the readable reason the call failed.
fn classify(err: wasmtime::Error, state: &CallState, limits: &Limits) -> PluginError {
    let backtrace = backtrace(&err);
    let stderr = state.stderr_text();
    if let Some(trap) = err.downcast_ref::<HostTrap>() {
        return match trap {
            HostTrap::HostCallLimit(limit) => PluginError::HostCallLimit { limit: *limit },
            HostTrap::Deadline => PluginError::Timeout {
                limit_ms: limits.timeout.as_millis() as u64,
            },
            HostTrap::Denied(function) => PluginError::DeniedImport(function.clone()),
        };
    }
    if let Some(desired) = state.limiter.refused {
        return PluginError::MemoryExhausted {
            limit_mb: limits.memory_bytes >> 20,
            detail: format!("tried to grow linear memory to {} MiB", desired >> 20),
        };
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => PluginError::Timeout {
            limit_ms: limits.timeout.as_millis() as u64,
        },
        Some(Trap::OutOfFuel) => PluginError::OutOfFuel {
            limit: limits.fuel.unwrap_or(0),
        },
        Some(Trap::StackOverflow) => PluginError::StackOverflow { backtrace },
        // Rust guests keep their stack in linear memory below the data; running
        // off its end is an out-of-bounds access deep inside a recursion.
        Some(Trap::MemoryOutOfBounds) if looks_like_recursion(&backtrace) => {
            PluginError::StackOverflow { backtrace }
        }
        Some(trap) => match panic_message(&stderr) {
            Some(message) => PluginError::Panic { message, backtrace },
            None => PluginError::Trap {
                kind: trap.to_string(),
                detail: stderr.trim().to_string(),
                backtrace,
            },
        },
        None => PluginError::Trap {
            kind: "host error".into(),
            detail: format!("{err:#}"),
            backtrace,
        },
    }
}

/// The message of a Rust panic as printed by the guest's panic hook:
/// "thread '…' panicked at src/lib.rs:3:5:\nmessage".
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at ")?;
    let after = &stderr[start + "panicked at ".len()..];
    let (location, rest) = after.split_once(":\n").unwrap_or((after, ""));
    let message = rest
        .lines()
        .take_while(|line| !line.starts_with("note: "))
        .collect::<Vec<_>>()
        .join("\n");
    Some(format!("{} (at {location})", message.trim()))
}

/// Whether the innermost frames are one function calling itself.
fn looks_like_recursion(backtrace: &[String]) -> bool {
    const DEPTH: usize = 16;
    backtrace.len() >= DEPTH && backtrace[..DEPTH].iter().all(|f| *f == backtrace[0])
}

fn backtrace(err: &wasmtime::Error) -> Vec<String> {
    err.downcast_ref::<WasmBacktrace>()
        .map(|bt| {
            bt.frames()
                .iter()
                .map(|frame| frame.func_name().unwrap_or("<unknown>").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_extracted() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom: bad input\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).unwrap(),
            "boom: bad input (at src/lib.rs:10:5)"
        );
        assert_eq!(panic_message("nothing"), None);
    }

    #[test]
    fn long_guest_errors_are_cut_on_a_char_boundary() {
        assert_eq!(guest_error_text("short".into(), 10), "short");
        let cut = guest_error_text("ééé".into(), 3);
        assert_eq!(cut, "é… (cut at 3 of 6 bytes)");
    }
}
