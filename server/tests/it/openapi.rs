//! The OpenAPI document against the router: every route the router serves (read from the
//! router's source, then probed on the live router) is documented with its method; every
//! 2xx answer has a typed body (or is a 204 without one); every error answer is the
//! `ErrorBody`; every `$ref` resolves; and real answers carry no undocumented field.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ADMIN, TestApp};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `(method, path)` of every `.route(...)` in `file`, each path prefixed by `prefix`.
fn routes_in(file: &str, prefix: &str) -> Vec<(String, String)> {
    let path = format!("{}/src/{file}", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap();
    let mut routes = Vec::new();
    for (start, _) in source.match_indices(".route(") {
        let rest = &source[start + ".route(".len()..];
        let open = rest.find('"').unwrap();
        let close = open + 1 + rest[open + 1..].find('"').unwrap();
        let route_path = &rest[open + 1..close];
        // The handlers: up to the parenthesis closing `.route(`.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let handlers = &rest[close..end];
        for method in METHODS {
            let call = format!("{method}(");
            let found = handlers.match_indices(&call).any(|(i, _)| {
                i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if found {
                routes.push((method.to_string(), format!("{prefix}{route_path}")));
            }
        }
    }
    routes
}

fn router_routes() -> Vec<(String, String)> {
    let mut routes = routes_in("lib.rs", "");
    routes.extend(routes_in("api/mod.rs", "/api/v1"));
    // Served by the `POST /records/{object}` route (the router has no suffixes after a
    // parameter): the object's name ends in `:batch`.
    routes.push(("post".into(), "/api/v1/records/{object}:batch".into()));
    routes
}

/// The same endpoints served under `/api/v1` too; documented once, at the root.
fn documented_as(path: &str) -> &str {
    match path {
        "/api/v1/healthz" => "/healthz",
        "/api/v1/metrics" => "/metrics",
        "/api/v1/openapi.json" => "/openapi.json",
        other => other,
    }
}

fn example_path(path: &str) -> String {
    path.replace("{object}", "case")
        .replace("{name}", "p")
        .replace("{id}", "x")
        .replace("{run_id}", "y")
}

#[tokio::test]
async fn every_route_is_documented_with_typed_answers() {
    let app = TestApp::new().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.body;
    let routes = router_routes();
    assert!(routes.len() > 35, "the route reader found only {routes:?}");

    let mut missing = Vec::new();
    for (method, path) in &routes {
        // The route really is served: without a token it is never an unknown route.
        let probe = app
            .call(
                method.to_uppercase().parse().unwrap(),
                &example_path(path),
                None,
                None,
            )
            .await;
        assert!(
            probe.status != StatusCode::NOT_FOUND && probe.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is not served: {}",
            probe.status
        );
        let op = &doc["paths"][documented_as(path)][method];
        if op.is_null() {
            missing.push(format!("{method} {path}"));
        } else {
            // What it answered without a token (401, or the answer of an open route) is
            // documented.
            assert!(
                op["responses"][probe.status.as_str()].is_object(),
                "{method} {path} answers {} without a token, undocumented",
                probe.status
            );
        }
    }
    assert!(missing.is_empty(), "undocumented routes: {missing:?}");

    // And nothing is documented that the router does not serve.
    let served: BTreeSet<(String, String)> = routes
        .iter()
        .map(|(m, p)| (m.clone(), documented_as(p).to_string()))
        .collect();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                assert!(
                    served.contains(&(method.to_string(), path.clone())),
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }

    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let name = format!("{method} {path}");
            check_responses(&name, op);
            check_path_parameters(&name, path, op);
            let id = op["operationId"].as_str().unwrap().to_string();
            assert!(
                operation_ids.insert(id.clone()),
                "{name}: operationId {id} repeats"
            );
        }
    }
    check_refs(&doc, &doc);
}

fn check_responses(op_name: &str, op: &Value) {
    let responses = op["responses"].as_object().unwrap();
    assert!(
        responses.keys().any(|s| s.starts_with('2')),
        "{op_name}: no 2xx answer"
    );
    for (status, response) in responses {
        let content = response.get("content").and_then(Value::as_object);
        if status == "204" {
            assert!(content.is_none(), "{op_name}: a 204 has no body");
            continue;
        }
        let content = content.unwrap_or_else(|| panic!("{op_name} {status}: no content"));
        assert!(!content.is_empty(), "{op_name} {status}: no content");
        for (media, body) in content {
            let schema = &body["schema"];
            if status.starts_with('2') {
                let typed = schema.get("$ref").is_some()
                    || schema.get("type").is_some()
                    || schema.get("oneOf").is_some()
                    || schema.get("allOf").is_some();
                assert!(typed, "{op_name} {status} {media}: untyped body {schema}");
            } else {
                assert_eq!(
                    schema["$ref"], "#/components/schemas/ErrorBody",
                    "{op_name} {status}: errors answer the ErrorBody"
                );
            }
        }
    }
}

/// Every `{name}` of the path is a declared path parameter, and every declared path
/// parameter is in the path.
fn check_path_parameters(op_name: &str, path: &str, op: &Value) {
    let in_template: BTreeSet<&str> = path
        .split('/')
        .filter_map(|s| {
            s.strip_prefix('{')
                .and_then(|s| s.split_once('}'))
                .map(|(name, _)| name)
        })
        .collect();
    let empty = Vec::new();
    let declared: BTreeSet<&str> = op["parameters"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .filter(|p| p["in"] == "path")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(in_template, declared, "{op_name}: path parameters");
}

fn check_refs(doc: &Value, node: &Value) {
    match node {
        Value::Object(m) => {
            if let Some(Value::String(target)) = m.get("$ref") {
                let pointer = target.strip_prefix('#').expect("local refs only");
                assert!(doc.pointer(pointer).is_some(), "{target} does not resolve");
            }
            m.values().for_each(|v| check_refs(doc, v));
        }
        Value::Array(items) => items.iter().for_each(|v| check_refs(doc, v)),
        _ => {}
    }
}

/// Every field of `value` is a property of the schema `name` (or of the schema it nests,
/// for objects and lists of objects under documented `$ref`s).
fn assert_documented(doc: &Value, name: &str, value: &Value) {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    let properties = schema["properties"].as_object().unwrap();
    let open = schema
        .get("additionalProperties")
        .is_some_and(|a| a != &json!(false));
    for (key, field) in value.as_object().unwrap() {
        let Some(property) = properties.get(key) else {
            assert!(open, "`{key}` of a {name} answer is not in its schema");
            continue;
        };
        let nested = property
            .pointer("/items/$ref")
            .or_else(|| property.get("$ref"))
            .or_else(|| property.pointer("/oneOf/0/$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"));
        if let Some(nested) = nested {
            match field {
                Value::Array(items) => items
                    .iter()
                    .for_each(|item| assert_documented(doc, nested, item)),
                Value::Object(_) => assert_documented(doc, nested, field),
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn real_answers_match_their_documented_schemas() {
    let app = TestApp::new().await;
    let doc = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let seed = app.create_seed().await;
    let automation = app.get(&format!("/api/v1/automations/{seed}")).await.body;
    assert_documented(&doc, "AutomationDoc", &automation);
    let copy = app.sandbox_copy(&seed).await;
    assert_documented(&doc, "AutomationDoc", &copy.body);
    app.post("/api/v1/sandbox/activate", &json!({})).await;
    let versions = app
        .get(&format!("/api/v1/automations/{seed}/versions"))
        .await
        .body;
    assert_documented(&doc, "VersionPage", &versions);
    let accepted = app
        .post(
            "/api/v1/records/case",
            &json!({"subject": "down", "priority": "critical"}),
        )
        .await;
    assert_documented(&doc, "RecordDoc", &accepted.body);
    let case = accepted.body["id"].as_str().unwrap();
    let log = app
        .get(&format!("/api/v1/records/case/{case}/automation-log"))
        .await
        .body;
    assert!(
        !log["items"][0]["automations"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_documented(&doc, "AutomationLogPage", &log);
    // The sandbox copy matched too: the two differ on no event, the totals count it.
    let diff = app
        .get(&format!("/api/v1/automations/{seed}/shadow-diff"))
        .await
        .body;
    assert_eq!(diff["totals"]["events"], 1, "{diff}");
    assert_documented(&doc, "ShadowDiffDoc", &diff);
    app.settle().await;
    let runs = app
        .get(&format!("/api/v1/automations/{seed}/runs"))
        .await
        .body;
    assert!(!runs["items"].as_array().unwrap().is_empty());
    assert_documented(&doc, "RunPage", &runs);
    let outbox = app.get("/api/v1/outbox").await.body;
    assert!(!outbox["items"].as_array().unwrap().is_empty());
    assert_documented(&doc, "OutboxPage", &outbox);
    let approval = app
        .post_raw(
            "/api/v1/automations",
            "application/json",
            crate::runs::APPROVAL,
        )
        .await;
    assert_eq!(approval.status, StatusCode::CREATED);
    app.post(
        "/api/v1/records/opportunity",
        &json!({"name": "big", "amount": 90000}),
    )
    .await;
    app.settle().await;
    let tasks = app.get("/api/v1/tasks").await.body;
    assert!(!tasks["items"].as_array().unwrap().is_empty());
    assert_documented(&doc, "TaskPage", &tasks);
    let event = app
        .post(
            "/api/v1/events",
            &json!({"id": "e1", "type": "custom.ping", "data": {}}),
        )
        .await;
    assert_eq!(event.status, StatusCode::ACCEPTED, "{}", event.text);
    assert_documented(&doc, "AcceptedDoc", &event.body);
    let valid = app
        .post_raw(
            "/api/v1/automations/validate",
            "application/json",
            crate::support::SEED,
        )
        .await;
    assert_documented(&doc, "ValidationDoc", &valid.body);
    let schema = app.get("/api/v1/schema").await.body;
    assert_documented(&doc, "SchemaDoc", &schema);
    let field = app
        .post(
            "/api/v1/schema/case/fields",
            &json!({"name": "sla", "type": "number"}),
        )
        .await;
    assert_documented(&doc, "AddedFieldDoc", &field.body);
}

/// What a client can get wrong is documented on every operation (DESIGN §12.1, as an
/// outside schema checker asks): with a valid token, ids that match nothing and no body
/// (a 404, a 400, or the operation's own answer), an unknown query parameter, and on a
/// list a `limit` below the declared minimum or above the declared maximum.
#[tokio::test]
async fn every_answer_to_a_wrong_request_is_documented() {
    let app = TestApp::new().await;
    let doc = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let mut undocumented = Vec::new();
    let mut lists = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let documented = |status: StatusCode| op["responses"][status.as_str()].is_object();
            let method: Method = method.to_uppercase().parse().unwrap();
            let answer = app
                .call(method.clone(), &example_path(path), Some(ADMIN), None)
                .await;
            if !documented(answer.status) {
                undocumented.push(format!("{method} {path}: {}", answer.status));
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let in_query = |name: &str| {
                params
                    .iter()
                    .any(|p| p["in"] == "query" && p["name"] == name)
            };
            if !in_query("limit") {
                continue;
            }
            lists += 1;
            let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
            assert_eq!(limit["schema"]["minimum"], json!(1), "{method} {path}");
            assert_eq!(
                limit["schema"]["maximum"],
                json!(u32::MAX),
                "{method} {path}"
            );
            let past_maximum = format!("limit={}", u64::from(u32::MAX) + 1);
            for query in ["limit=0", past_maximum.as_str(), "no_such_parameter=1"] {
                let answer = app
                    .call(
                        method.clone(),
                        &format!("{}?{query}", example_path(path)),
                        Some(ADMIN),
                        None,
                    )
                    .await;
                // Under an id that matches nothing, the 404 may come first.
                let rejected = answer.status == StatusCode::BAD_REQUEST
                    || (path.contains('{') && answer.status == StatusCode::NOT_FOUND);
                if !rejected || !documented(answer.status) {
                    undocumented.push(format!("{method} {path}?{query}: {}", answer.status));
                }
            }
        }
    }
    assert!(lists > 8, "the lists were found: {lists}");
    assert!(undocumented.is_empty(), "{undocumented:#?}");
}

/// Every query parameter documented as an `enum` takes each of its words (200 on every
/// list without path parameters) and answers any other word, the empty one included, with
/// a 400; a backtest's `version` is documented as the words or a number it takes.
#[tokio::test]
async fn every_enumerated_query_parameter_takes_its_words_and_no_other() {
    let app = TestApp::new().await;
    let doc = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let mut checked = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(params) = item["get"]["parameters"].as_array() else {
            continue;
        };
        for param in params.iter().filter(|p| p["in"] == "query") {
            let Some(words) = param["schema"]["enum"].as_array() else {
                continue;
            };
            let name = param["name"].as_str().unwrap();
            assert!(
                !path.contains('{'),
                "{path}: give {name} an example id here"
            );
            for word in words {
                let url = format!("{path}?{name}={}", word.as_str().unwrap());
                let answer = app.get(&url).await;
                assert_eq!(answer.status, StatusCode::OK, "{url}: {}", answer.text);
            }
            for other in ["no_such_word", ""] {
                let url = format!("{path}?{name}={other}");
                let answer = app.get(&url).await;
                assert_eq!(
                    answer.status,
                    StatusCode::BAD_REQUEST,
                    "{url}: {}",
                    answer.text
                );
            }
            checked.push(format!("{path} {name}"));
        }
    }
    assert!(checked.len() >= 6, "{checked:?}");
    let body = &doc["components"]["schemas"]["BacktestBody"]["properties"];
    let version = body["version"]["oneOf"].as_array().unwrap();
    assert_eq!(version[0]["enum"], json!(["draft", "sandbox"]));
    assert_eq!(
        (&version[1]["type"], &version[1]["minimum"]),
        (&json!("integer"), &json!(1))
    );
    assert_eq!(body["definition"]["oneOf"].as_array().unwrap().len(), 2);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ApplyChangeDoc"]["properties"]["op"]["enum"],
        json!(["create", "update", "archive"])
    );
    let event_type = &schemas["EventBody"]["properties"]["type"];
    assert_eq!(
        (&event_type["pattern"], &event_type["minLength"]),
        (&json!("^custom\\."), &json!(8))
    );
}
