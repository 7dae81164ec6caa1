//! The error answers every operation of a kind can give (DESIGN §12.1), added to the
//! document once instead of on each handler: 401 where a token is needed, 400 where a
//! body or a query string is read, 404 where a path names something. A handler's own
//! description of one of these codes is kept. Also the `limit` parameter of every list:
//! at least 1 (0 is a 400); above 500 it reads as 500, so its maximum is what parses.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder, Schema};

pub(super) struct ErrorAnswers;

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        let global_token = needs_token(openapi.security.as_deref());
        for operation in super::operations_mut(openapi) {
            let token = match operation.security.as_deref() {
                Some(own) => needs_token(Some(own)),
                None => global_token,
            };
            add_error_answers(operation, token);
            describe_limit(operation);
        }
    }
}

/// Whether a security requirement list asks for a token (`security(())`, one empty
/// requirement, is an operation open to anyone).
fn needs_token(requirements: Option<&[utoipa::openapi::SecurityRequirement]>) -> bool {
    requirements.is_some_and(|all| {
        all.iter()
            .any(|r| *r != utoipa::openapi::SecurityRequirement::default())
    })
}

fn add_error_answers(operation: &mut Operation, token: bool) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let reads_query = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    let names_something = parameters
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path));
    let reads_body = operation.request_body.is_some();
    if token {
        add(operation, "401", "Missing or unknown token");
    }
    if reads_body || reads_query {
        add(
            operation,
            "400",
            "Malformed input: JSON that does not parse or has the wrong shape, invalid UTF-8, \
             an unknown or malformed query parameter",
        );
    }
    if names_something {
        add(
            operation,
            "404",
            "Nothing of that id in the token's workspace (an id that matches nothing, is \
             malformed or belongs to another workspace)",
        );
    }
}

/// Adds the error answer `status` unless the operation describes it already.
fn add(operation: &mut Operation, status: &str, description: &str) {
    let responses = &mut operation.responses.responses;
    if responses.contains_key(status) {
        return;
    }
    let body = ContentBuilder::new()
        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            "ErrorBody",
        ))))
        .build();
    let answer = ResponseBuilder::new()
        .description(description)
        .content("application/json", body)
        .build();
    responses.insert(status.to_string(), RefOr::T(answer));
}

fn describe_limit(operation: &mut Operation) {
    let Some(parameters) = operation.parameters.as_mut() else {
        return;
    };
    for p in parameters.iter_mut() {
        if p.name != "limit" || !matches!(p.parameter_in, ParameterIn::Query) {
            continue;
        }
        p.description =
            Some("Items per page: default 50, at least 1; above 500 reads as 500".into());
        if let Some(RefOr::T(Schema::Object(schema))) = p.schema.as_mut() {
            // The range is what parses (a u32), not a 32-bit signed format's.
            schema.format = None;
            schema.minimum = Some(utoipa::Number::Int(1));
            schema.maximum = Some(utoipa::Number::UInt(u32::MAX as usize));
        }
    }
}
