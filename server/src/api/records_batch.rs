//! `POST /records/{object}:batch`: many records created in one request and one
//! transaction, for integrations that sync CRM data in bulk.
//!
//! The body is `{"items": [<record>, ...]}` (or the array alone), each record flat as for
//! `POST /records/{object}`, at most [`MAX_BATCH_ITEMS`]. Each item stands alone: one
//! that fails (a field of the wrong type, an existing `id`, not an object) is rolled back
//! by itself and answered with its own error; the others are created and their events
//! trigger automations as single creates do. The answer (200) lists one result per item,
//! in the order sent: `{"index", "status": 201, "record"}` or `{"index", "status",
//! "error": {"code", "message", "diagnostics"}}` with the status a single create would
//! have answered and diagnostics pointing into the batch (`/items/3/priority`). Nothing is
//! answered before the transaction is committed; when the transaction itself fails the
//! request fails as a whole and nothing was written. Over the item limit: 413
//! `batch_too_large` before anything is written.

use axum::Json;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use automations_runtime::RecordOp;
use automations_runtime::model::Record;

use super::records::{RecordView, new_record, object_body};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// Items one batch may hold.
pub const MAX_BATCH_ITEMS: usize = 500;

/// One item's result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchItemResult {
    /// The item's position in the request, from 0.
    pub index: usize,
    /// What a single create would have answered: 201, or the error's status.
    pub status: u16,
    /// The created record (status 201).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "record_view"
    )]
    #[schema(value_type = Option<crate::api::wire::RecordDoc>)]
    pub record: Option<Record>,
    /// Why the item was not created (any other status).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::error::ErrorDetail>)]
    pub error: Option<Value>,
}

/// The answer of a batch: one result per item, in request order (a list: §12.1's shape,
/// never paged, so `next_cursor` is always null), and the counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub items: Vec<BatchItemResult>,
    #[schema(value_type = Option<String>)]
    pub next_cursor: Option<()>,
    /// Items created.
    pub created: usize,
    /// Items refused (each with its error).
    pub failed: usize,
}

/// Create up to 500 records of one object in one transaction; each item answers for itself.
#[utoipa::path(post, path = "/api/v1/records/{object}:batch", tag = "records",
    params(crate::api::wire::ObjectPath),
    request_body(content = Object, description = "`{\"items\": [record, ...]}` (or the array alone), each record flat, `id` optional; at most 500 items"),
    responses((status = 200, description = "One result per item, in request order", body = BatchResult),
        (status = 400, description = "Not a list of items", body = crate::error::ErrorBody),
        (status = 404, description = "No such object", body = crate::error::ErrorBody),
        (status = 413, description = "More than 500 items, or a body over the limit", body = crate::error::ErrorBody)))]
pub async fn create_batch(
    state: AppState,
    principal: Principal,
    object: String,
    body: Value,
) -> ApiResult<(StatusCode, Json<BatchResult>)> {
    principal.require(Scope::RecordsWrite)?;
    let (items, base) = batch_items(body)?;
    if !state
        .definitions()
        .schema_view(&principal.workspace_id)
        .has_object(&object)
    {
        return Err(ApiError::not_found("object"));
    }
    // Items that are not records at all are answered without reaching the writer.
    let mut results: Vec<Option<BatchItemResult>> = Vec::with_capacity(items.len());
    let mut ops = Vec::with_capacity(items.len());
    let mut positions = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        match object_body(item).and_then(new_record) {
            Ok(record) => {
                positions.push(index);
                ops.push(RecordOp::Create {
                    object: object.clone(),
                    record,
                });
                results.push(None);
            }
            Err(e) => results.push(Some(failed(base, index, e))),
        }
    }
    let written = state
        .engine()
        .write_records_each(&principal.workspace_id, ops)
        .await?;
    for (index, outcome) in positions.into_iter().zip(written) {
        results[index] = Some(match outcome {
            Ok(Some(record)) => BatchItemResult {
                index,
                status: StatusCode::CREATED.as_u16(),
                record: Some(record),
                error: None,
            },
            Ok(None) => failed(
                base,
                index,
                ApiError::internal("a create returned no record"),
            ),
            Err(e) => failed(base, index, ApiError::from(e)),
        });
    }
    let items: Vec<BatchItemResult> = results.into_iter().flatten().collect();
    let created = items.iter().filter(|r| r.record.is_some()).count();
    Ok((
        StatusCode::OK,
        Json(BatchResult {
            failed: items.len() - created,
            created,
            items,
            next_cursor: None,
        }),
    ))
}

fn record_view<S: serde::Serializer>(record: &Option<Record>, s: S) -> Result<S::Ok, S::Error> {
    match record {
        Some(r) => RecordView(r).serialize(s),
        None => s.serialize_none(),
    }
}

/// The items of a batch body (`{"items": [...]}` or the array alone), and the JSON
/// pointer of the list in the body (`/items` or the root).
fn batch_items(body: Value) -> ApiResult<(Vec<Value>, &'static str)> {
    let (items, base) = match body {
        Value::Array(items) => (items, ""),
        Value::Object(mut map) => match map.remove("items") {
            Some(Value::Array(items)) if map.is_empty() => (items, "/items"),
            _ => return Err(shape_error()),
        },
        _ => return Err(shape_error()),
    };
    if items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::BatchTooLarge {
            items: items.len(),
            limit: MAX_BATCH_ITEMS,
        });
    }
    Ok((items, base))
}

fn shape_error() -> ApiError {
    ApiError::bad_request(
        "invalid_body",
        "a batch must be `{\"items\": [record, ...]}` (or the array of records alone)",
    )
}

/// An item's error, its diagnostics pointing into the batch body (the list at `base`).
fn failed(base: &str, index: usize, error: ApiError) -> BatchItemResult {
    let status = error.status().as_u16();
    let ErrorBody { mut error } = error.into_body();
    let prefix = format!("{base}/{index}");
    error.diagnostics = std::mem::take(&mut error.diagnostics)
        .into_iter()
        .map(|d| d.at_pointer_prefix(&prefix))
        .collect();
    BatchItemResult {
        index,
        status,
        record: None,
        error: Some(serde_json::to_value(error).unwrap_or(Value::Null)),
    }
}
