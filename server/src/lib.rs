//! automations-server: the REST API v1 (axum), its authentication and error mapping, and
//! the serving loop of `automations serve`.
//!
//! [`app`] builds the whole HTTP application from an [`AppState`], so tests drive it
//! in-process with `tower::ServiceExt::oneshot` and the binary serves the same router. This
//! crate speaks HTTP and maps errors to statuses, and serves the embedded web UI
//! ([`web`]); it must never hold business rules of the
//! engine (those live in automations-runtime and automations-compiler).

pub mod api;
pub mod auth;
pub mod contain;
pub mod definitions;
pub mod error;
pub mod logging;
pub mod plugins;
pub mod rate_limit;
pub mod schemas;
pub mod serve;
pub mod state;
pub mod token_cache;
pub mod web;
pub mod worker;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

pub use state::{ApiConfig, AppState};

use crate::error::ApiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config().body_limit;
    let upload_limit = state.config().plugin_upload_limit;
    Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/openapi.json", get(api::openapi::openapi_json))
        .route("/metrics", get(api::metrics::metrics))
        .nest("/api/v1", api::v1_routes(upload_limit))
        .fallback(web::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, NewRequestId))
        .layer(CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// Counts each request by method, matched route template and status (`/metrics`).
async fn count_requests(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string());
    let response = next.run(request).await;
    state
        .counters()
        .count(&method, route.as_deref(), response.status().as_u16());
    response
}

/// A handler that panics answers a generic 500; the detail goes to the log only.
fn panic_response(detail: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let message = detail
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| detail.downcast_ref::<&str>().copied())
        .unwrap_or("panic");
    ApiError::internal(format!("handler panicked: {message}")).into_response()
}

/// 405 with the error body; axum adds the route's `Allow` unless set here. The batch
/// endpoint shares its route with the object's list and create, but takes POST alone.
async fn method_not_allowed(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = ApiError::MethodNotAllowed.into_response();
    if uri.path().ends_with(":batch") {
        let post = axum::http::HeaderValue::from_static("POST");
        response
            .headers_mut()
            .insert(axum::http::header::ALLOW, post);
    }
    response
}

/// Request ids are fresh UUIDs unless the client sent one.
#[derive(Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::new_v4().to_string();
        axum::http::HeaderValue::from_str(&id)
            .ok()
            .map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_answer_a_generic_500() {
        let response = panic_response(Box::new("secret detail at src/db.rs:12".to_string()));
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert!(
            !body.to_string().contains("secret"),
            "internals never leak: {body}"
        );
    }
}
