//! The web UI: `web/dist` (the Vite build, committed) embedded in the binary with
//! `include_dir` and served at `/`, so the README's run command serves the UI with no
//! extra step and a Rust-only build needs no npm.
//!
//! Files are served by path; any other GET outside `/api/` answers `index.html` (the UI
//! routes in the browser). Paths under `/api/`, other methods and missing files with an
//! extension keep the API's JSON 404. This module never reads the file system.

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, File, include_dir};

use crate::error::ApiError;

static DIST: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../web/dist");

/// The router's fallback: the UI for page loads, the JSON 404 for everything else.
pub async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let is_api = path == "/api" || path.starts_with("/api/");
    if is_api || !(method == Method::GET || method == Method::HEAD) {
        return ApiError::NotFound("no such route".into()).into_response();
    }
    let relative = path.trim_start_matches('/');
    if let Some(file) = DIST.get_file(relative).filter(|_| !relative.is_empty()) {
        return file_response(file, relative.starts_with("assets/"));
    }
    // A missing script or image must not answer HTML (the browser would run or show it).
    let last = relative.rsplit('/').next().unwrap_or_default();
    if relative.starts_with("assets/") || last.contains('.') {
        return ApiError::NotFound(format!("no file `{path}`")).into_response();
    }
    match DIST.get_file("index.html") {
        Some(index) => file_response(index, false),
        None => {
            ApiError::NotFound("the web UI is not built into this binary".into()).into_response()
        }
    }
}

fn file_response(file: &'static File<'static>, immutable: bool) -> Response {
    let mut response = (StatusCode::OK, file.contents()).into_response();
    let headers = response.headers_mut();
    let name = file.path().to_string_lossy();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&name)),
    );
    // Hashed asset names change with their content; index.html must be revalidated.
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `/?token=` signs in: the token must never leave in a Referer header.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    response
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_is_embedded() {
        let index = DIST.get_file("index.html").expect("web/dist/index.html");
        let html = index.contents_utf8().unwrap();
        assert!(html.contains("<div id=\"root\">"), "{html}");
        // Every script and stylesheet the page names is embedded.
        for part in html.split('"').filter(|p| p.starts_with("/assets/")) {
            assert!(DIST.get_file(&part[1..]).is_some(), "{part} is missing");
        }
    }
}
