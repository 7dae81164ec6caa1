//! Malformed and hostile requests: each gets the right 4xx with the §12 error body, and
//! none of them changes the database.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, SEED, TestApp};

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    token: Option<String>,
    content_type: &'static str,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
}

fn case(
    name: &'static str,
    method: Method,
    path: impl Into<String>,
    body: impl Into<Vec<u8>>,
    status: StatusCode,
    code: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        token: Some(ADMIN.to_string()),
        content_type: "application/json",
        body: body.into(),
        status,
        code,
    }
}

#[tokio::test]
async fn hostile_requests_get_4xx_and_change_nothing() {
    let app = TestApp::new().await;
    let automation = app.create_seed().await;
    let record = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "keep me", "priority": "low"}),
        )
        .await;
    let rid = record.body["id"].as_str().unwrap().to_string();
    app.settle().await;
    let before = app.fingerprint().await;
    let record_before = app.get(&format!("/api/v1/records/case/{rid}")).await.body;

    use StatusCode as S;
    let deep = "[".repeat(10_000);
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let mut unknown_field: serde_json::Value = serde_json::from_str(SEED).unwrap();
    unknown_field["trigerr"] = json!("oops");
    let mut cases = vec![
        case(
            "truncated JSON",
            Method::POST,
            "/api/v1/automations",
            "{\"name\": ",
            S::BAD_REQUEST,
            "malformed_json",
        ),
        case(
            "empty body",
            Method::POST,
            "/api/v1/records/case",
            "",
            S::BAD_REQUEST,
            "malformed_json",
        ),
        case(
            "trailing garbage",
            Method::POST,
            "/api/v1/records/case",
            "{\"subject\": \"a\"} x",
            S::BAD_REQUEST,
            "malformed_json",
        ),
        case(
            "invalid UTF-8",
            Method::POST,
            "/api/v1/automations",
            vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'],
            S::BAD_REQUEST,
            "invalid_utf8",
        ),
        case(
            "invalid UTF-8 in a patch",
            Method::PATCH,
            format!("/api/v1/records/case/{rid}"),
            vec![0xc3, 0x28],
            S::BAD_REQUEST,
            "invalid_utf8",
        ),
        case(
            "a definition that is an array",
            Method::POST,
            "/api/v1/automations",
            "[1, 2]",
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case(
            "nesting bomb",
            Method::POST,
            "/api/v1/automations",
            deep,
            S::BAD_REQUEST,
            "malformed_json",
        ),
        case(
            "body over 1 MiB",
            Method::POST,
            "/api/v1/automations",
            huge.clone(),
            S::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        case(
            "record body over 1 MiB",
            Method::POST,
            "/api/v1/records/case",
            huge,
            S::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        case(
            "unknown definition field",
            Method::POST,
            "/api/v1/automations",
            unknown_field.to_string(),
            S::UNPROCESSABLE_ENTITY,
            "invalid_definition",
        ),
        case(
            "record that is a string",
            Method::POST,
            "/api/v1/records/case",
            "\"just text\"",
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case(
            "picklist as a list",
            Method::POST,
            "/api/v1/records/case",
            r#"{"priority": ["critical"]}"#,
            S::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        case(
            "SQL in a record id",
            Method::POST,
            "/api/v1/records/case",
            r#"{"id": "x'; DROP TABLE records;--", "subject": "a"}"#,
            S::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        case(
            "NUL in a field name",
            Method::POST,
            "/api/v1/records/case",
            "{\"sub\\u0000ject\": \"a\"}",
            S::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        case(
            "SQL in a path id",
            Method::GET,
            "/api/v1/records/case/'%20OR%20'1'='1",
            "",
            S::NOT_FOUND,
            "not_found",
        ),
        case(
            "path traversal in an id",
            Method::GET,
            "/api/v1/automations/..%2F..%2Fetc%2Fpasswd",
            "",
            S::NOT_FOUND,
            "not_found",
        ),
        case(
            "path traversal in an object",
            Method::GET,
            "/api/v1/records/..%2Fcase/x",
            "",
            S::NOT_FOUND,
            "not_found",
        ),
        case(
            "SQL as an object name",
            Method::POST,
            "/api/v1/records/case;DROP%20TABLE%20records",
            "{}",
            S::NOT_FOUND,
            "not_found",
        ),
        case(
            "event type of the wrong type",
            Method::POST,
            "/api/v1/events",
            r#"{"type": 5}"#,
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case(
            "unknown event field",
            Method::POST,
            "/api/v1/events",
            r#"{"type": "custom.x", "extra": 1}"#,
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case(
            "status of the wrong type",
            Method::POST,
            format!("/api/v1/automations/{automation}/status"),
            r#"{"status": 1}"#,
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case(
            "complete-task without output",
            Method::POST,
            format!("/api/v1/automations/{automation}/runs/run_x/complete-task"),
            "{}",
            S::BAD_REQUEST,
            "invalid_body",
        ),
        case(
            "negative limit",
            Method::GET,
            "/api/v1/automations?limit=-1",
            "",
            S::BAD_REQUEST,
            "invalid_query",
        ),
        case(
            "foreign cursor",
            Method::GET,
            "/api/v1/automations?cursor=..%2F..%2F",
            "",
            S::BAD_REQUEST,
            "invalid_query",
        ),
        case(
            "writing a managed field",
            Method::PATCH,
            format!("/api/v1/records/case/{rid}"),
            r#"{"created_at": "1970-01-01T00:00:00Z"}"#,
            S::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
        case(
            "wrong type in a patch",
            Method::PATCH,
            format!("/api/v1/records/case/{rid}"),
            r#"{"priority": 3, "subject": "changed"}"#,
            S::UNPROCESSABLE_ENTITY,
            "invalid_fields",
        ),
    ];
    let mut html = case(
        "HTML body",
        Method::POST,
        "/api/v1/automations",
        "<h1>hi</h1>",
        S::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    html.content_type = "text/html";
    cases.push(html);
    let mut basic = case(
        "basic auth",
        Method::GET,
        "/api/v1/automations",
        "",
        S::UNAUTHORIZED,
        "unauthorized",
    );
    basic.token = None;
    cases.push(basic);
    let mut injected = case(
        "SQL in the token",
        Method::GET,
        "/api/v1/automations",
        "",
        S::UNAUTHORIZED,
        "unauthorized",
    );
    injected.token = Some("' OR 1=1 --".into());
    cases.push(injected);
    assert!(cases.len() >= 20);

    for c in cases {
        let body = if c.body.is_empty() && c.method == Method::GET {
            None
        } else {
            Some((c.content_type, c.body))
        };
        let answer = if c.name == "basic auth" {
            let request = axum::http::Request::builder()
                .uri(&c.path)
                .header("authorization", "Basic YWRtaW46YWRtaW4=")
                .body(axum::body::Body::empty())
                .unwrap();
            app.send(request).await
        } else {
            app.call(c.method.clone(), &c.path, c.token.as_deref(), body)
                .await
        };
        assert_eq!(answer.status, c.status, "{}: {}", c.name, answer.text);
        assert_eq!(answer.error_code(), c.code, "{}: {}", c.name, answer.text);
        assert!(
            !answer.text.to_lowercase().contains("sqlite"),
            "{}: internals leaked: {}",
            c.name,
            answer.text
        );
    }

    let malformed = app
        .post_raw(
            "/api/v1/automations",
            "application/json",
            "{\n  \"name\": \"x\",\n  oops\n}",
        )
        .await;
    let d = &malformed.body["error"]["diagnostics"][0];
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64().is_some()),
        (Some(3), true),
        "malformed JSON says where: {d}"
    );

    app.settle().await;
    assert_eq!(
        app.fingerprint().await,
        before,
        "no hostile request changed the database"
    );
    assert_eq!(
        app.get(&format!("/api/v1/records/case/{rid}")).await.body,
        record_before
    );
    let filtered = app
        .get("/api/v1/records/case?subject=x'%20OR%20'1'='1")
        .await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert_eq!(
        filtered.body["items"],
        json!([]),
        "filter values are data, never SQL"
    );
}
