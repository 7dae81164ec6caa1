//! The runtime's error type. The server maps variants to HTTP statuses; this crate never
//! speaks HTTP status codes itself.

use automations_compiler::sourced::SourcedDiagnostics;
use serde::Serialize;

/// A field-level validation problem (record writes, task output against its form).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Unknown id, or an id of another workspace (the server answers 404 for both).
    #[error("{what} not found: {id}")]
    NotFound { what: &'static str, id: String },
    /// A record field of the wrong type, a picklist value outside its set, task output that
    /// does not match its form (the server answers 422).
    #[error("validation failed: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// A definition that does not compile: the compiler's diagnostics, with the text they
    /// point into (so the server can give line/column or a JSON pointer).
    #[error("invalid definition: {message}")]
    Definition {
        message: String,
        /// Boxed: the source maps are large and errors travel in every `Result`.
        diagnostics: Box<SourcedDiagnostics>,
    },
    /// The checker failed (panicked) on a definition: a bug, contained to that definition
    /// (the server answers 500 `checker_failed`; a stored one is skipped at start).
    #[error("the checker failed on this definition: {0}")]
    CheckerFailed(String),
    /// A second task completion, an edit of an archived automation, a retry of a run that
    /// did not fail (the server answers 409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A write made against a version that is no longer the current one (`If-Match`),
    /// found inside the write transaction (the server answers 409).
    #[error("version {expected} is stale: the current version is {current}")]
    Stale { expected: i64, current: i64 },
    /// A request that makes no sense in the current state of things (400).
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl RuntimeError {
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        RuntimeError::NotFound {
            what,
            id: id.into(),
        }
    }
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        RuntimeError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
}

/// PostgreSQL's codes for text it cannot store: `\u0000` in `jsonb` (22P05) and a NUL
/// byte in `text` (22021). SQLite stores both.
const UNSTORABLE_TEXT: [&str; 2] = ["22P05", "22021"];

impl From<sqlx::Error> for RuntimeError {
    fn from(e: sqlx::Error) -> Self {
        let code = e.as_database_error().and_then(|d| d.code());
        if code.is_some_and(|c| UNSTORABLE_TEXT.contains(&c.as_ref())) {
            return RuntimeError::BadRequest(
                "text holds the NUL character (U+0000), which this database cannot store".into(),
            );
        }
        RuntimeError::Database(e)
    }
}

impl From<serde_json::Error> for RuntimeError {
    fn from(e: serde_json::Error) -> Self {
        RuntimeError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
