//! Seams the server fills in: the definition compiler (API JSON -> [`Plan`]) and the
//! plugin runner (a wasm host). The runtime depends only on these traits, so it neither
//! links wasmtime nor fixes the compiler's API in its own types.

use std::future::Future;
use std::pin::Pin;

use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::retry::ErrorClass;
use automations_compiler::sourced::SourcedDiagnostics;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::model::{AutomationStatus, EnvironmentKind, StepLog};
use crate::plan::Plan;

/// A definition compiled for the runtime, with what the automations table stores.
#[derive(Debug, Clone)]
pub struct CompiledDefinition {
    pub plan: Plan,
    pub name: String,
    pub status: AutomationStatus,
    pub environment: EnvironmentKind,
    /// Non-fatal diagnostics (warnings), with the definition text they point into.
    pub warnings: SourcedDiagnostics,
}

/// The warnings of a definition write (create, update, activation).
#[derive(Debug, Clone, Default)]
pub struct Warnings {
    /// The checker's, placed in the definition's text.
    pub definition: SourcedDiagnostics,
    /// Static trigger cycles with the workspace's automations (W0307): about several
    /// automations, so placed nowhere in this one's text.
    pub workspace: Vec<Diagnostic>,
}

impl Warnings {
    /// Every warning, the definition's first.
    pub fn all(&self) -> impl Iterator<Item = &Diagnostic> {
        self.definition.diagnostics.iter().chain(&self.workspace)
    }
}

pub trait DefinitionCompiler: Send + Sync {
    /// Compiles API JSON (DESIGN §3.1) against the schema of workspace `ws`. Errors are
    /// `RuntimeError::Definition` with the compiler's diagnostics (and notes) and the text
    /// they point into.
    fn compile(&self, ws: &str, definition: &Value) -> Result<CompiledDefinition>;
}

/// The engine's compiler: the given one with a panic in it contained.
///
/// Stored definitions are compiled again at start, on cache misses and on every index
/// rebuild, on whatever thread asks; a checker bug on one stored definition must cost that
/// definition (`RuntimeError::CheckerFailed`, skipped at start like one that no longer
/// checks), never the process or the other automations. Stack exhaustion is not a panic
/// and cannot be caught here: the parser's depth limits keep every pass far from it.
pub(crate) struct ContainedCompiler(pub(crate) std::sync::Arc<dyn DefinitionCompiler>);

impl DefinitionCompiler for ContainedCompiler {
    fn compile(&self, ws: &str, definition: &Value) -> Result<CompiledDefinition> {
        let compile = std::panic::AssertUnwindSafe(|| self.0.compile(ws, definition));
        std::panic::catch_unwind(compile).unwrap_or_else(|panic| {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            Err(crate::error::RuntimeError::CheckerFailed(text))
        })
    }
}

/// An effect asked for by an action or a plugin; applied (or, in dry-run, recorded) by the
/// one effect path.
#[derive(Debug, Clone, PartialEq)]
pub enum EffectRequest {
    UpdateRecord {
        object: String,
        id: String,
        fields: Map<String, Value>,
    },
    CreateRecord {
        object: String,
        fields: Map<String, Value>,
    },
    Notify {
        user_id: String,
        message: String,
    },
    Email {
        to: Vec<String>,
        cc: Vec<String>,
        subject: String,
        body: String,
    },
    Slack {
        text: String,
        target: Option<String>,
    },
    Webhook {
        url: String,
        method: String,
        headers: Map<String, Value>,
        body: Value,
        secret: Option<String>,
    },
}

/// One plugin step invocation.
#[derive(Debug, Clone)]
pub struct PluginCall {
    pub workspace_id: String,
    pub run_id: String,
    pub step_id: String,
    pub plugin: String,
    pub version: Option<String>,
    pub input: Value,
    pub dry_run: bool,
}

/// What a plugin produced: its output and the effects it asked for through host functions
/// (applied by the runtime in the step's transaction), and what it logged.
#[derive(Debug, Clone, Default)]
pub struct PluginResult {
    pub output: Value,
    pub effects: Vec<EffectRequest>,
    pub logs: Vec<StepLog>,
}

/// Why a plugin call failed, with what the plugin logged before it did (often the most
/// useful part of a failure).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginFailure {
    pub message: String,
    pub logs: Vec<StepLog>,
    /// The transient class of the failure, which a step's retry policy may retry; `None`
    /// for a failure that would fail again (a trap, an exhausted limit, a missing plugin).
    pub class: Option<ErrorClass>,
}

impl From<String> for PluginFailure {
    fn from(message: String) -> Self {
        PluginFailure {
            message,
            logs: Vec::new(),
            class: None,
        }
    }
}

pub type PluginFuture<'a> =
    Pin<Box<dyn Future<Output = std::result::Result<PluginResult, PluginFailure>> + Send + 'a>>;

/// Runs plugin steps (the server provides one built on automations-host-api).
pub trait PluginRunner: Send + Sync {
    fn run(&self, call: PluginCall) -> PluginFuture<'_>;
}
