//! The one error type of plugin loading and calls. Every failure of a guest
//! (trap, panic, timeout, memory, bad output) maps to a variant with a
//! readable message; none of them may ever take the host down.

use crate::manifest::ManifestError;

/// Why loading or calling a plugin failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    #[error("not a valid WebAssembly component: {0}")]
    InvalidComponent(String),
    #[error("component does not fit the automations:plugin@0.1.0 world `action`: {0}")]
    WorldMismatch(String),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{0}")]
    Config(String),
    #[error("component cache: {0}")]
    Cache(String),
    #[error("plugin input is {size} bytes, over the limit of {limit} bytes")]
    InputTooLarge { size: u64, limit: u64 },
    #[error("plugin timed out after {limit_ms} ms")]
    Timeout { limit_ms: u64 },
    #[error("plugin ran out of fuel (limit {limit})")]
    OutOfFuel { limit: u64 },
    #[error("plugin exceeded its memory limit of {limit_mb} MiB{}", suffix(detail))]
    MemoryExhausted { limit_mb: u64, detail: String },
    #[error("plugin overflowed its stack (recursion too deep)")]
    StackOverflow { backtrace: Vec<String> },
    #[error("plugin panicked: {message}")]
    Panic {
        message: String,
        backtrace: Vec<String>,
    },
    #[error("plugin trapped: {kind}{}", suffix(detail))]
    Trap {
        kind: String,
        detail: String,
        backtrace: Vec<String>,
    },
    #[error(
        "plugin called `{0}`, which this host denies: plugins reach the network only \
         through `automations:plugin/http` (capability `http:fetch:HOST`)"
    )]
    DeniedImport(String),
    #[error("plugin exceeded its limit of {limit} host calls")]
    HostCallLimit { limit: u32 },
    #[error("plugin output is {size} bytes, over the limit of {limit} bytes")]
    OutputTooLarge { size: u64, limit: u64 },
    #[error("plugin output is not valid JSON: {0}")]
    InvalidOutput(String),
    #[error("plugin returned an error: {0}")]
    Guest(String),
    #[error("plugin host failure: {0}")]
    Internal(String),
}

fn suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl PluginError {
    /// A short stable name of the variant, for metrics and step errors.
    pub fn kind(&self) -> &'static str {
        match self {
            PluginError::InvalidComponent(_) => "invalid_component",
            PluginError::WorldMismatch(_) => "world_mismatch",
            PluginError::Manifest(_) => "manifest",
            PluginError::Config(_) => "config",
            PluginError::Cache(_) => "cache",
            PluginError::InputTooLarge { .. } => "input_too_large",
            PluginError::Timeout { .. } => "timeout",
            PluginError::OutOfFuel { .. } => "out_of_fuel",
            PluginError::MemoryExhausted { .. } => "memory_exhausted",
            PluginError::StackOverflow { .. } => "stack_overflow",
            PluginError::Panic { .. } => "panic",
            PluginError::Trap { .. } => "trap",
            PluginError::DeniedImport(_) => "denied_import",
            PluginError::HostCallLimit { .. } => "host_call_limit",
            PluginError::OutputTooLarge { .. } => "output_too_large",
            PluginError::InvalidOutput(_) => "invalid_output",
            PluginError::Guest(_) => "guest_error",
            PluginError::Internal(_) => "internal",
        }
    }
}
