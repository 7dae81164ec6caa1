//! The one error type of the HTTP API and its wire form (DESIGN §12, §12.1).
//!
//! Every failure answers `{"error": {"code", "message", "diagnostics": [...]}}` with the
//! status of §12.1. This is the only place where errors become HTTP statuses. It must never
//! put internal details (SQL, file paths, panics) into a response: a 500 logs the detail
//! and answers a generic message.

use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::sourced::{DiagnosticSource, SourcedDiagnostics};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// One diagnostic as the API shows it: DSL input gets line/column, JSON input a JSON pointer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApiDiagnostic {
    pub code: String,
    /// `error`, `warning` or `note`.
    pub severity: String,
    pub message: String,
    /// 1-based, for DSL input (and for malformed JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    /// RFC 6901 pointer into the JSON body, for JSON input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The did-you-mean replacement, or null.
    pub suggestion: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Other places the diagnostic points at (where a closing bracket was expected, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<ApiLabel>,
}

/// A secondary place of a diagnostic, placed like the diagnostic itself.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApiLabel {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
}

impl ApiDiagnostic {
    /// An error diagnostic with nothing but a code and a message.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> ApiDiagnostic {
        ApiDiagnostic {
            code: code.into(),
            severity: "error".into(),
            message: message.into(),
            line: None,
            column: None,
            end_line: None,
            end_column: None,
            pointer: None,
            suggestion: None,
            notes: Vec::new(),
            labels: Vec::new(),
        }
    }
    pub fn at_pointer(mut self, pointer: impl Into<String>) -> ApiDiagnostic {
        self.pointer = Some(pointer.into());
        self
    }
    /// Prefixes the pointer (field errors of a nested body such as `/output/approved`).
    pub fn at_pointer_prefix(mut self, prefix: &str) -> ApiDiagnostic {
        self.pointer = Some(format!(
            "{prefix}{}",
            self.pointer.take().unwrap_or_default()
        ));
        self
    }
    pub fn at_line_column(mut self, line: usize, column: usize) -> ApiDiagnostic {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// The one rendering of a compiler [`Diagnostic`] for the API: code, severity, message,
    /// suggestion, notes and labels as they are, placed by line/column (DSL and JSON text)
    /// and a JSON pointer (JSON text) when its source is known.
    pub fn from_compiler(d: &Diagnostic, source: &DiagnosticSource) -> ApiDiagnostic {
        let mut out = ApiDiagnostic::error(d.code, d.message.clone());
        out.severity = d.severity.as_str().to_string();
        out.suggestion = d.suggestion.clone();
        out.notes = d.notes.clone();
        if let Some(place) = source.place(d) {
            out.line = Some(place.line);
            out.column = Some(place.column);
            out.end_line = Some(place.end_line);
            out.end_column = Some(place.end_column);
            out.pointer = place.pointer;
        }
        out.labels = d
            .labels
            .iter()
            .map(|l| {
                let place = source.place_span(l.span);
                ApiLabel {
                    message: l.message.clone(),
                    line: place.as_ref().map(|p| p.line),
                    column: place.as_ref().map(|p| p.column),
                    end_line: place.as_ref().map(|p| p.end_line),
                    end_column: place.as_ref().map(|p| p.end_column),
                    pointer: place.and_then(|p| p.pointer),
                }
            })
            .collect();
        out
    }

    /// Every diagnostic of `sourced`, placed in its source.
    pub fn all(sourced: &SourcedDiagnostics) -> Vec<ApiDiagnostic> {
        sourced
            .iter()
            .map(|(d, source)| ApiDiagnostic::from_compiler(d, source))
            .collect()
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `malformed_json`, `not_found`, `invalid_definition`, ...
    pub code: String,
    pub message: String,
    pub diagnostics: Vec<ApiDiagnostic>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed JSON (with its line/column), invalid UTF-8, wrong JSON shape, bad query.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        diagnostics: Vec<ApiDiagnostic>,
    },
    /// 401: missing or unknown token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the token lacks a scope.
    #[error("missing scope `{0}`")]
    Forbidden(String),
    /// 404: no such thing in this workspace (also for other workspaces' ids).
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: second task completion, stale If-Match, edit of an archived automation, ...
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is over the limit.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 413: a plugin upload over the configured upload limit.
    #[error(
        "the upload is larger than the plugin upload limit of {} bytes ({} MiB); \
         the server's --plugin-upload-limit sets it",
        limit,
        limit >> 20
    )]
    UploadTooLarge { limit: usize },
    /// 413: a batch with more items than one may hold.
    #[error(
        "a batch holds at most {limit} items and this one has {items}: send it in batches of {limit}"
    )]
    BatchTooLarge { items: usize, limit: usize },
    /// 415: a content type the endpoint does not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: a definition with diagnostics, a record that breaks the schema, a task output
    /// that does not match its form.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        diagnostics: Vec<ApiDiagnostic>,
    },
    /// 429: the token's rate limit is spent.
    #[error("rate limit exceeded ({limit} for this token); retry after {retry_after_secs} s")]
    TooManyRequests {
        retry_after_secs: u64,
        limit: String,
    },
    /// 503: the database is not ready.
    #[error("{0}")]
    Unavailable(String),
    /// 500: logged with its detail; the client sees a generic message only.
    #[error("internal error: {0}")]
    Internal(String),
    /// 500: checking a definition failed inside the checker (a panic, contained); nothing
    /// was stored. The detail is logged, not sent.
    #[error(
        "the definition could not be checked (an internal checker failure); nothing was stored"
    )]
    CheckerFailed(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }
    pub fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::NotFound(format!("{what} not found"))
    }
    pub fn unprocessable(
        code: &'static str,
        message: impl Into<String>,
        diagnostics: Vec<ApiDiagnostic>,
    ) -> ApiError {
        ApiError::Unprocessable {
            code,
            message: message.into(),
            diagnostics,
        }
    }
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(detail.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. }
            | ApiError::UploadTooLarge { .. }
            | ApiError::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) | ApiError::CheckerFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge { .. } | ApiError::UploadTooLarge { .. } => {
                "payload_too_large"
            }
            ApiError::BatchTooLarge { .. } => "batch_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
            ApiError::CheckerFailed(_) => "checker_failed",
        }
    }

    /// The wire body of this error (a 500 logs its detail here and answers a generic one).
    pub fn into_body(self) -> ErrorBody {
        let code = self.code().to_string();
        let (message, diagnostics) = match self {
            ApiError::BadRequest {
                message,
                diagnostics,
                ..
            }
            | ApiError::Unprocessable {
                message,
                diagnostics,
                ..
            } => (message, diagnostics),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ("internal server error".to_string(), Vec::new())
            }
            ApiError::CheckerFailed(ref detail) => {
                tracing::error!(%detail, "checking a definition failed");
                (self.to_string(), Vec::new())
            }
            other => (other.to_string(), Vec::new()),
        };
        ErrorBody {
            error: ErrorDetail {
                code,
                message,
                diagnostics,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let mut response = (status, axum::Json(self.into_body())).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Result of every handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<automations_runtime::RuntimeError> for ApiError {
    fn from(err: automations_runtime::RuntimeError) -> ApiError {
        use automations_runtime::RuntimeError as E;
        match err {
            E::NotFound { what, .. } => ApiError::not_found(what),
            E::Validation(fields) => {
                let diagnostics = fields.iter().map(field_diagnostic).collect();
                ApiError::unprocessable(
                    "invalid_fields",
                    "the values do not match the schema",
                    diagnostics,
                )
            }
            E::Definition {
                message,
                diagnostics,
            } => ApiError::unprocessable(
                "invalid_definition",
                message,
                ApiDiagnostic::all(&diagnostics),
            ),
            E::Conflict(message) => ApiError::Conflict(message),
            E::CheckerFailed(message) => ApiError::CheckerFailed(message),
            stale @ E::Stale { .. } => ApiError::Conflict(stale.to_string()),
            E::BadRequest(message) => ApiError::bad_request("bad_request", message),
            other => ApiError::internal(other),
        }
    }
}

/// A field error of a record write or a task output, pointing at the field in the body.
fn field_diagnostic(field: &automations_runtime::FieldError) -> ApiDiagnostic {
    ApiDiagnostic::error(
        "invalid_field",
        format!("`{}` {}", field.field, field.message),
    )
    .at_pointer(format!(
        "/{}",
        field.field.replace('~', "~0").replace('/', "~1")
    ))
}
