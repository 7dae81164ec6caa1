//! Dry-run: sandbox automations and `test` record effects without applying them.

use serde_json::json;

use automations_runtime::model::{RunFilter, RunStatus};
use automations_runtime::{TestEvent, TestRequest};

use crate::support::*;

fn three_effects(sink: &str, env: &str) -> serde_json::Value {
    json!({
        "name": "three effects",
        "environment": env,
        "trigger": {"event": "case.created", "conditions": {"priority": "critical"}},
        "actions": [
            {"type": "update_field", "params": {"field": "status", "value": "escalated"}},
            {"type": "send_email", "params": {"to": "ops@example.com", "subject": "S", "body": "B"}},
            {"type": "webhook", "params": {"url": format!("{sink}/hook"), "body": {"case": "{{ id }}"}, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
        ],
        "status": "active"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_dry_run_changes_nothing() {
    let sink = HttpSink::start().await;
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    engine
        .create_automation(&ws.id, three_effects(&sink.url, "sandbox"))
        .await
        .unwrap();

    // Sandbox off: the sandbox automation does not run at all.
    fx.create("case", json!({"priority": "critical"})).await;
    engine.run_until_idle().await.unwrap();
    assert!(fx.runs().await.is_empty());

    engine
        .set_sandbox(&ws.id, true, &automations_runtime::model::Actor::system())
        .await
        .unwrap();
    let case = fx
        .create("case", json!({"priority": "critical", "status": "new"}))
        .await;
    engine.run_until_idle().await.unwrap();
    engine.deliver_outbox_until_idle().await.unwrap();

    let runs = engine
        .runs(
            &ws.id,
            &RunFilter {
                dry_run: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(runs.len(), 1);
    let run = engine.run(&ws.id, &runs[0].id).await.unwrap();
    assert!(run.dry_run);
    assert_eq!(run.status, RunStatus::Completed, "{:?}", run.error);
    let effects: Vec<_> = run.steps.iter().flat_map(|s| s.effects.iter()).collect();
    assert_eq!(effects.len(), 3);
    assert!(
        effects
            .iter()
            .all(|e| !e.applied && e.id.as_deref().is_some_and(|i| i.starts_with("dry_")))
    );
    assert_eq!(
        effects.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        vec!["record.update", "email", "webhook"]
    );
    assert_eq!(
        engine
            .record(&ws.id, "case", &case.id)
            .await
            .unwrap()
            .fields["status"],
        json!("new")
    );
    assert!(
        engine
            .outbox(&ws.id, &Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(sink.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_runs_a_dry_run_with_mocks_and_explains_non_matches() {
    let sink = HttpSink::start().await;
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let (auto, _) = engine
        .create_automation(&ws.id, three_effects(&sink.url, "live"))
        .await
        .unwrap();

    let miss = engine
        .test_automation(
            &ws.id,
            &auto.id,
            TestRequest {
                event: TestEvent {
                    record: Some(obj(json!({"priority": "low"}))),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!miss.matched && miss.run.is_none());
    assert_eq!(miss.explanation.clauses.len(), 1);
    let clause = &miss.explanation.clauses[0];
    assert!(!clause.result);
    assert!(clause.text.contains("priority"), "{}", clause.text);
    let seen = clause
        .values
        .iter()
        .find(|v| v.field == "priority")
        .unwrap();
    assert_eq!(seen.value, json!("low"));

    let mut mocks = serde_json::Map::new();
    mocks.insert("step_2".into(), json!({"outbox_id": "mocked"}));
    let hit = engine
        .test_automation(
            &ws.id,
            &auto.id,
            TestRequest {
                event: TestEvent {
                    record: Some(obj(json!({"priority": "critical"}))),
                    ..Default::default()
                },
                mocks,
            },
        )
        .await
        .unwrap();
    let run = hit.run.unwrap();
    assert!(hit.matched && run.dry_run);
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.steps[1].output, Some(json!({"outbox_id": "mocked"})));
    assert!(run.steps[1].effects.is_empty());
    assert!(
        run.steps
            .iter()
            .flat_map(|s| &s.effects)
            .all(|e| !e.applied)
    );
    assert!(
        engine
            .outbox(&ws.id, &Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    engine.deliver_outbox_until_idle().await.unwrap();
    assert!(sink.requests().is_empty());
}

#[tokio::test]
async fn offline_test_uses_a_private_database() {
    let env = automations_runtime::OfflineTest {
        compiler: compiler(),
        schema: crm_schema(),
        plugins: None,
        records: vec![],
    };
    let report = automations_runtime::test_offline(
        env,
        seed(),
        TestRequest {
            event: TestEvent {
                record: Some(obj(json!({"priority": "critical", "subject": "x"}))),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let run = report.run.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.steps.len(), 2);
    assert!(
        run.steps
            .iter()
            .all(|s| s.effects.iter().all(|e| !e.applied))
    );
}
