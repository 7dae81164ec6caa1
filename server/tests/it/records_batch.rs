//! `POST /records/{object}:batch`: per-item results in request order, per-item errors
//! that lose nothing, one transaction, the item limit, and concurrent identical batches.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::{ADMIN, TestApp};

const BATCH: &str = "/api/v1/records/case:batch";

async fn case_count(app: &TestApp) -> usize {
    let page = app.get("/api/v1/records/case?limit=500").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page.body["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn each_item_answers_for_itself_and_good_ones_run_automations() {
    let app = TestApp::new().await;
    let seed = app.create_seed().await;
    let taken = app
        .post(
            "/api/v1/records/case",
            &json!({"id": "c_taken", "subject": "first"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.text);
    let answer = app
        .post(
            BATCH,
            &json!({"items": [
                {"id": "c1", "subject": "down", "priority": "critical"},
                {"subject": "typo", "priority": "urgent-ish"},
                {"id": "c_taken", "subject": "again"},
                "not a record",
                {"id": "bad id!", "subject": "x"},
                {"subject": "fine", "priority": "low"},
            ]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let items = answer.body["items"].as_array().unwrap();
    let statuses: Vec<u64> = items
        .iter()
        .map(|i| i["status"].as_u64().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec![201, 422, 409, 400, 422, 201],
        "{}",
        answer.text
    );
    let indexes: Vec<u64> = items.iter().map(|i| i["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(answer.body["created"], 2);
    assert_eq!(answer.body["failed"], 4);
    assert_eq!(answer.body["next_cursor"], Value::Null);
    // A created item carries its record; a refused one its error, placed in the batch.
    assert_eq!(items[0]["record"]["id"], "c1");
    assert_eq!(items[0]["record"]["object"], "case");
    assert!(items[0].get("error").is_none());
    assert_eq!(items[1]["error"]["code"], "invalid_fields");
    assert_eq!(
        items[1]["error"]["diagnostics"][0]["pointer"], "/items/1/priority",
        "{}",
        answer.text
    );
    assert_eq!(items[2]["error"]["code"], "conflict");
    assert_eq!(items[3]["error"]["code"], "invalid_body");
    assert_eq!(
        items[4]["error"]["diagnostics"][0]["pointer"],
        "/items/4/id"
    );
    assert!(items[5]["record"]["id"].is_string());
    // What was answered 201 is stored, the rest is not; the taken record is unchanged.
    assert_eq!(case_count(&app).await, 3);
    let kept = app.get("/api/v1/records/case/c_taken").await;
    assert_eq!(kept.body["subject"], "first");
    // The critical case triggered the seed automation, as a single create would.
    app.settle().await;
    let runs = app.get(&format!("/api/v1/automations/{seed}/runs")).await;
    let runs = runs.body["items"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "completed", "{:?}", runs[0]);
}

#[tokio::test]
async fn the_bare_array_form_and_the_shape_errors() {
    let app = TestApp::new().await;
    let answer = app
        .post(
            BATCH,
            &json!([{"subject": "a"}, {"subject": "b"}, {"subject": "c", "priority": 7}]),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["created"], 2);
    // The list is the body itself: pointers start at the root.
    assert_eq!(
        answer.body["items"][2]["error"]["diagnostics"][0]["pointer"], "/2/priority",
        "{}",
        answer.text
    );
    let empty = app.post(BATCH, &json!({"items": []})).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert_eq!(empty.body["items"], json!([]));
    for bad in [
        json!({"items": 5}),
        json!({"items": [], "extra": 1}),
        json!("x"),
        json!({}),
    ] {
        let refused = app.post(BATCH, &bad).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            refused.text
        );
        assert_eq!(refused.error_code(), "invalid_body");
    }
    let unknown = app
        .post("/api/v1/records/nope:batch", &json!({"items": []}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let reader = app.token("default", &["records:read"]).await;
    let forbidden = app.post_as(&reader, BATCH, &json!({"items": []})).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(case_count(&app).await, 2);
}

#[tokio::test]
async fn a_batch_over_the_item_limit_is_413_and_writes_nothing() {
    let app = TestApp::new().await;
    let items: Vec<Value> = (0..501)
        .map(|n| json!({"subject": format!("s{n}")}))
        .collect();
    let refused = app.post(BATCH, &json!({ "items": items })).await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        refused.text
    );
    assert_eq!(refused.error_code(), "batch_too_large");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("500") && message.contains("501"),
        "{message}"
    );
    assert_eq!(case_count(&app).await, 0);
    // Exactly the limit is accepted.
    let items: Vec<Value> = (0..500)
        .map(|n| json!({"subject": format!("s{n}")}))
        .collect();
    let accepted = app.post(BATCH, &json!({ "items": items })).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.text);
    assert_eq!(accepted.body["created"], 500);
    assert_eq!(case_count(&app).await, 500);
}

#[tokio::test]
async fn sixteen_identical_batches_at_once_create_each_record_once() {
    let app = TestApp::new().await;
    let items: Vec<Value> = (0..20)
        .map(|n| json!({"id": format!("c{n}"), "subject": format!("s{n}")}))
        .collect();
    let body = json!({ "items": items }).to_string();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let router = app.router.clone();
        let request = Request::post(BATCH)
            .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        calls.spawn(async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        });
    }
    let mut created_per_item = [0usize; 20];
    while let Some(done) = calls.join_next().await {
        let (status, body) = done.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        for item in body["items"].as_array().unwrap() {
            let index = item["index"].as_u64().unwrap() as usize;
            match item["status"].as_u64().unwrap() {
                201 => created_per_item[index] += 1,
                409 => assert_eq!(item["error"]["code"], "conflict"),
                other => panic!("item {index}: {other}: {item}"),
            }
        }
    }
    assert_eq!(created_per_item, [1; 20]);
    assert_eq!(case_count(&app).await, 20);
}
