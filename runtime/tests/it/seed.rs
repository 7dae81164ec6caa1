//! The seed automation end to end: a critical case is assigned and announced on Slack.

use serde_json::json;

use automations_runtime::model::{OutboxFilter, OutboxKind, OutboxStatus, RunStatus, StepStatus};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_automation_runs_on_critical_case_and_delivers_slack() {
    let sink = HttpSink::start().await;
    let mut config = quick_config();
    config.outbox.slack_webhook_url = Some(format!("{}/slack", sink.url));
    let fx = Fixture::with(config, None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let (auto, _) = engine.create_automation(&ws.id, seed()).await.unwrap();

    let case = fx
        .create("case", json!({"subject": "Down", "priority": "critical"}))
        .await;
    let low = fx
        .create("case", json!({"subject": "Meh", "priority": "low"}))
        .await;
    engine.run_until_idle().await.unwrap();
    engine.deliver_outbox_until_idle().await.unwrap();

    let runs = fx.runs().await;
    assert_eq!(runs.len(), 1, "only the critical case triggers");
    let run = engine
        .automation_run(&ws.id, &auto.id, &runs[0].id)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.record_id.as_deref(), Some(case.id.as_str()));
    assert_eq!(run.version, 1);
    assert!(run.duration_ms.is_some() && run.finished_at.is_some());
    assert_eq!(run.steps.len(), 2);
    assert!(
        run.steps
            .iter()
            .all(|s| s.status == StepStatus::Completed && s.effects.iter().all(|e| e.applied))
    );
    assert_eq!(run.steps[0].step_type, "assign_to_queue");
    assert_eq!(run.steps[1].effects[0].kind.as_str(), "slack");

    let case = engine.record(&ws.id, "case", &case.id).await.unwrap();
    assert_eq!(case.fields["queue_id"], json!("q_escalations"));
    let low = engine.record(&ws.id, "case", &low.id).await.unwrap();
    assert!(low.fields.get("queue_id").is_none());

    let items = engine
        .outbox(
            &ws.id,
            &OutboxFilter {
                kind: Some(OutboxKind::Slack),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].status, OutboxStatus::Delivered);
    assert_eq!(items[0].run_id.as_deref(), Some(run.id.as_str()));
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/slack");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reqs[0].body).unwrap(),
        json!({"text": "Critical case created"})
    );
    assert_eq!(reqs[0].headers["idempotency-key"], items[0].idempotency_key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_without_url_ends_dead_and_email_goes_to_the_mailbox() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let mut def = seed();
    def["actions"].as_array_mut().unwrap().push(json!({"type": "send_email", "params": {"to": "ops@example.com", "subject": "Case {{ subject }}", "body": "Priority {{ priority }}"}}));
    engine.create_automation(&ws.id, def).await.unwrap();
    fx.create("case", json!({"subject": "Down", "priority": "critical"}))
        .await;
    engine.run_until_idle().await.unwrap();
    engine.deliver_outbox_until_idle().await.unwrap();
    let items = engine
        .outbox(&ws.id, &Default::default())
        .await
        .unwrap()
        .items;
    let slack = items.iter().find(|i| i.kind == OutboxKind::Slack).unwrap();
    assert_eq!(slack.status, OutboxStatus::Dead);
    assert!(
        slack
            .last_error
            .as_deref()
            .unwrap()
            .contains("--slack-webhook-url")
    );
    let email = items.iter().find(|i| i.kind == OutboxKind::Email).unwrap();
    assert_eq!(email.status, OutboxStatus::Delivered);
    let mail = engine.mailbox(&ws.id).await.unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].subject, "Case Down");
    assert_eq!(mail[0].body, "Priority critical");
    assert_eq!(mail[0].to, vec!["ops@example.com".to_string()]);
}
