//! The token API (`GET/POST /tokens`, `DELETE /tokens/{id}`, admin scope): a listing never
//! carries a secret, a created token's text is answered once and works at once, a revoked
//! one is a 401 at its next request, every change is audited with the calling token as
//! actor, and another workspace's tokens are out of reach (404), as is the API for
//! non-admin tokens (403).

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp};

async fn create(app: &TestApp, token: &str, body: Value) -> crate::support::Answer {
    let bytes = body.to_string().into_bytes();
    app.call(
        Method::POST,
        "/api/v1/tokens",
        Some(token),
        Some(("application/json", bytes)),
    )
    .await
}

async fn revoke(app: &TestApp, token: &str, id: &str) -> crate::support::Answer {
    let path = format!("/api/v1/tokens/{id}");
    app.call(Method::DELETE, &path, Some(token), None).await
}

/// A new token answers the instant its list gives back (the stored precision).
#[tokio::test]
async fn a_new_token_answers_the_timestamp_a_read_gives_back() {
    let app = TestApp::new().await;
    let created = create(&app, ADMIN, json!({"name": "t", "scopes": ["runs:read"]})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let listed = app.get("/api/v1/tokens").await.body;
    let item = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == created.body["id"])
        .unwrap()
        .clone();
    assert_eq!(created.body["created_at"], item["created_at"]);
}

#[tokio::test]
async fn create_list_revoke_with_the_secret_shown_once() {
    let app = TestApp::new().await;
    let created = create(
        &app,
        ADMIN,
        json!({"name": "importer", "scopes": ["records:write"], "rate_limit": "50/s", "rate_burst": 100}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let text = created.body["token"].as_str().unwrap().to_string();
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["scopes"], json!(["records:write"]));
    assert_eq!(created.body["revoked_at"], Value::Null);
    // It works at once, within its scopes only.
    let write = app
        .call(
            Method::POST,
            "/api/v1/records/case",
            Some(&text),
            Some(("application/json", br#"{"subject": "x"}"#.to_vec())),
        )
        .await;
    assert_eq!(write.status, StatusCode::CREATED, "{}", write.text);
    let read = app.get_as(&text, "/api/v1/automations").await;
    assert_eq!(read.status, StatusCode::FORBIDDEN, "{}", read.text);

    // Listed newest first, never with a secret.
    let listed = app.get("/api/v1/tokens").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert!(!listed.text.contains(&text), "{}", listed.text);
    assert!(!listed.text.contains(ADMIN), "{}", listed.text);
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", listed.text);
    assert_eq!(items[0]["id"], id);
    assert_eq!(items[0]["name"], "importer");
    assert!(items.iter().all(|t| t.get("token").is_none()));
    assert_eq!(listed.body["next_cursor"], Value::Null);
    // Pages of one concatenate to the list.
    let first = app.get("/api/v1/tokens?limit=1").await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let second = app
        .get(&format!("/api/v1/tokens?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(first.body["items"][0], items[0]);
    assert_eq!(second.body["items"][0], items[1]);
    assert_eq!(second.body["next_cursor"], Value::Null);

    // Revoked: a 401 at its next request; listed with `revoked_at`; a second revoke 404.
    let gone = revoke(&app, ADMIN, &id).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    let after = app.get_as(&text, "/api/v1/records/case").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    let listed = app.get("/api/v1/tokens").await;
    assert!(
        listed.body["items"][0]["revoked_at"].is_string(),
        "{}",
        listed.text
    );
    assert_eq!(revoke(&app, ADMIN, &id).await.status, StatusCode::NOT_FOUND);

    // Audited with the calling token as actor, and no token text in the log.
    let audit = app.get("/api/v1/audit?kind=token").await;
    assert!(!audit.text.contains(&text), "{}", audit.text);
    let entries = audit.body["items"].as_array().unwrap();
    assert_eq!(entries[0]["action"], "token.revoke", "{}", audit.text);
    assert_eq!(entries[0]["target"], id);
    assert_eq!(entries[1]["action"], "token.create");
    assert_eq!(entries[1]["target"], id);
    for entry in &entries[..2] {
        assert_ne!(entry["actor"]["token_id"], Value::Null, "{entry}");
        assert_ne!(entry["actor"]["token_id"], id.as_str(), "{entry}");
    }
}

#[tokio::test]
async fn another_workspaces_tokens_are_out_of_reach() {
    let app = TestApp::new().await;
    let theirs = app.token("other", &["admin"]).await;
    let made = create(
        &app,
        &theirs,
        json!({"name": "theirs", "scopes": ["runs:read"]}),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let their_id = made.body["id"].as_str().unwrap().to_string();
    let their_text = made.body["token"].as_str().unwrap().to_string();

    // Not listed here, not revocable from here (404, and it still works).
    let mine = app.get("/api/v1/tokens").await;
    assert!(!mine.text.contains(&their_id), "{}", mine.text);
    assert_eq!(
        revoke(&app, ADMIN, &their_id).await.status,
        StatusCode::NOT_FOUND
    );
    let still = app.get_as(&their_text, "/api/v1/automations/x/runs").await;
    assert_ne!(still.status, StatusCode::UNAUTHORIZED, "{}", still.text);
    // Nor ours from there.
    let listed = app.get("/api/v1/tokens").await;
    let my_id = listed.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        revoke(&app, &theirs, &my_id).await.status,
        StatusCode::NOT_FOUND
    );
    let their_list = app.get_as(&theirs, "/api/v1/tokens").await;
    assert!(!their_list.text.contains(&my_id), "{}", their_list.text);
    assert_eq!(app.get("/api/v1/tokens").await.status, StatusCode::OK);
}

#[tokio::test]
async fn only_admin_tokens_use_it_and_bad_requests_say_what() {
    let app = TestApp::new().await;
    let all_but_admin = [
        "automations:read",
        "automations:write",
        "runs:read",
        "runs:write",
        "records:read",
        "records:write",
        "tasks:write",
        "plugins:admin",
        "sandbox:admin",
    ];
    let plain = app.token("default", &all_but_admin).await;
    assert_eq!(
        app.get_as(&plain, "/api/v1/tokens").await.status,
        StatusCode::FORBIDDEN
    );
    let refused = create(&app, &plain, json!({"name": "x", "scopes": ["admin"]})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let listed = app.get("/api/v1/tokens").await;
    let admin_id = listed.body["items"].as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        revoke(&app, &plain, &admin_id).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/api/v1/tokens").await.status, StatusCode::OK);

    let cases = [
        (
            json!({"name": "x", "scopes": ["root"]}),
            422,
            "unknown scope `root`",
        ),
        (
            json!({"name": "x", "scopes": []}),
            422,
            "`scopes` names no scope",
        ),
        (
            json!({"name": " ", "scopes": ["admin"]}),
            422,
            "`name` must be",
        ),
        (
            json!({"name": "x", "scopes": ["admin"], "rate_limit": "fast"}),
            422,
            "`rate_limit`",
        ),
        (
            json!({"name": "x", "scopes": ["admin"], "rate_burst": 5}),
            422,
            "`rate_burst` needs",
        ),
        (
            json!({"name": "x", "scopes": ["admin"], "secret": "mine"}),
            400,
            "secret",
        ),
        (json!({"scopes": ["admin"]}), 400, "name"),
        (
            json!({"name": "é".repeat(201), "scopes": ["admin"]}),
            422,
            "`name` must be 1 to 200 characters",
        ),
    ];
    let before = app.get("/api/v1/tokens").await.body["items"].clone();
    for (body, status, says) in cases {
        let answer = create(&app, ADMIN, body.clone()).await;
        assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.text);
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    assert_eq!(
        app.get("/api/v1/tokens").await.body["items"],
        before,
        "nothing made"
    );
}

/// What the OpenAPI document says a token takes is what it takes: every scope word it
/// lists, a name of 200 characters however many bytes they are, and the rates its
/// pattern allows.
#[tokio::test]
async fn a_token_takes_every_documented_scope_and_a_name_of_200_characters() {
    let app = TestApp::new().await;
    let doc = app.get("/openapi.json").await.body;
    let body = &doc["components"]["schemas"]["CreateToken"]["properties"];
    assert_eq!(
        (&body["name"]["minLength"], &body["name"]["maxLength"]),
        (&json!(1), &json!(200))
    );
    let scopes = body["scopes"]["items"]["enum"].as_array().unwrap();
    assert!(scopes.len() >= 10, "{scopes:?}");
    for scope in scopes {
        let answer = create(
            &app,
            ADMIN,
            json!({"name": "é".repeat(200), "scopes": [scope]}),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{scope}: {}",
            answer.text
        );
    }
    assert_eq!(
        body["rate_limit"]["pattern"],
        r"^(off|[0-9]+(\.[0-9]+)?/(s|min|h))$"
    );
    for rate in ["off", "200/s", "600/min", "10/h", "2.5/s", "0/s"] {
        let answer = create(
            &app,
            ADMIN,
            json!({"name": "r", "scopes": ["admin"], "rate_limit": rate}),
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::CREATED,
            "{rate}: {}",
            answer.text
        );
    }
}

/// A scope named again and again is granted once, in the order first named: 50,000
/// repeats make a token with two scopes, answered and listed so.
#[tokio::test]
async fn a_scope_named_twice_is_granted_once() {
    let app = TestApp::new().await;
    let mut scopes = vec!["runs:read"; 50_000];
    scopes.push("admin");
    scopes.push("runs:read");
    let answer = create(&app, ADMIN, json!({"name": "repeats", "scopes": scopes})).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.body["scopes"], json!(["runs:read", "admin"]));
    let listed = app.get("/api/v1/tokens").await;
    let made = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "repeats")
        .unwrap_or_else(|| panic!("{}", listed.text));
    assert_eq!(made["scopes"], json!(["runs:read", "admin"]));
}
