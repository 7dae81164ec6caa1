//! Request extractors that answer with [`ApiError`] instead of axum's plain-text rejections.
//!
//! Bodies are read as bytes under the body limit (413 beyond it), checked for UTF-8 (400
//! `invalid_utf8`) and parsed with serde_json so that malformed JSON reports its line and
//! column (400 `malformed_json`) and a body of the wrong shape says what was expected (400
//! `invalid_body`). Nothing here touches the database.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiDiagnostic, ApiError};

/// The default and the documented body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// A JSON body parsed into `T`.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        let text = utf8(&bytes)?;
        parse_json(text).map(ApiJson)
    }
}

/// A body that is either JSON or `text/plain` DSL, kept as text for the compiler.
#[derive(Debug, Clone)]
pub struct TextOrJson {
    pub text: String,
    pub format: BodyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Dsl,
}

impl<S: Send + Sync> FromRequest<S> for TextOrJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let format = body_format(req.headers().get(header::CONTENT_TYPE))?;
        let bytes = read_body(req, state).await?;
        let text = utf8(&bytes)?.to_string();
        Ok(TextOrJson { text, format })
    }
}

fn body_format(content_type: Option<&header::HeaderValue>) -> Result<BodyFormat, ApiError> {
    let Some(value) = content_type else {
        return Ok(BodyFormat::Json);
    };
    let mime = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "" | "application/json" => Ok(BodyFormat::Json),
        m if m.ends_with("+json") => Ok(BodyFormat::Json),
        "text/plain" | "text/x-automations" | "application/x-automations" => Ok(BodyFormat::Dsl),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "content type `{other}` is not accepted: send application/json or text/plain (DSL)"
        ))),
    }
}

/// Reads the whole body under the limit set by `DefaultBodyLimit`.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: DEFAULT_BODY_LIMIT,
            }
        } else {
            ApiError::bad_request("invalid_body", "the request body could not be read")
        }
    })
}

fn utf8(bytes: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes).map_err(|err| {
        ApiError::bad_request(
            "invalid_utf8",
            format!(
                "the request body is not valid UTF-8 (at byte {})",
                err.valid_up_to()
            ),
        )
    })
}

/// Parses JSON text into `T`, mapping serde's errors onto 400s with line and column.
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|err| json_error(&err))
}

/// The 400 for a serde_json error: `malformed_json` for syntax, `invalid_body` for shape.
pub fn json_error(err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let (code, what) = match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => ("malformed_json", "malformed JSON"),
        Category::Data => ("invalid_body", "the body has the wrong shape"),
    };
    let detail = err.to_string();
    let mut diagnostic = ApiDiagnostic::error(code, detail.clone());
    if err.line() > 0 {
        diagnostic = diagnostic.at_line_column(err.line(), err.column());
    }
    ApiError::BadRequest {
        code,
        message: format!("{what}: {detail}"),
        diagnostics: vec![diagnostic],
    }
}

/// Query parameters parsed into `T`; a bad one is a 400 `invalid_query`.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let parsed = match without_empty_cursor(parts.uri.query().unwrap_or_default()) {
            Cow::Borrowed(_) => Query::<T>::try_from_uri(&parts.uri),
            Cow::Owned(kept) => {
                // What is left of a query the request line carried is a query too.
                let uri: Uri = format!("/?{kept}").parse().map_err(|_| {
                    ApiError::bad_request("invalid_query", "the query string is malformed")
                })?;
                Query::<T>::try_from_uri(&uri)
            }
        };
        match parsed {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_query",
                rejection.body_text(),
            )),
        }
    }
}

/// The query without `cursor=` pairs that carry no value: an empty cursor asks for the
/// first page, as no cursor does (a client that fills `?cursor=` from a `next_cursor` it
/// has not got yet sends one), on every list alike.
fn without_empty_cursor(query: &str) -> Cow<'_, str> {
    let empty = |pair: &str| pair == "cursor" || pair == "cursor=";
    if !query.split('&').any(empty) {
        return query.into();
    }
    let kept: Vec<&str> = query.split('&').filter(|pair| !empty(pair)).collect();
    kept.join("&").into()
}

/// Path parameters; a value that cannot be decoded is a 404 (ids are opaque, §12.1).
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(_) => Err(ApiError::NotFound("not found".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_empty_cursors_are_dropped_from_a_query() {
        for (query, kept) in [
            ("", ""),
            ("limit=2", "limit=2"),
            ("cursor=abc&limit=2", "cursor=abc&limit=2"),
            ("cursor=", ""),
            ("cursor", ""),
            ("limit=2&cursor=&status=open", "limit=2&status=open"),
            ("cursors=&x_cursor=", "cursors=&x_cursor="),
        ] {
            assert_eq!(without_empty_cursor(query), kept, "{query}");
        }
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_json::<serde_json::Value>("{\n  \"a\": ,\n}").unwrap_err();
        let ApiError::BadRequest {
            code, diagnostics, ..
        } = err
        else {
            panic!("not a 400")
        };
        assert_eq!(code, "malformed_json");
        assert_eq!(diagnostics[0].line, Some(2));
    }

    #[test]
    fn wrong_shapes_are_invalid_body() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let err = parse_json::<T>("{\"a\": \"x\"}").unwrap_err();
        assert_eq!(err.code(), "invalid_body");
    }
}
