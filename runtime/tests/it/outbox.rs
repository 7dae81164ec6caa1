//! Outbox delivery: Standard Webhooks signatures, retries, dead letters, private targets.

use std::time::Duration;

use serde_json::json;

use automations_runtime::model::{OutboxKind, OutboxStatus};
use automations_runtime::outbox::signing;

use crate::support::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn hook(url: String) -> serde_json::Value {
    json!({"name": "hook", "trigger": {"event": "case.created"},
        "actions": [{"type": "webhook", "params": {"url": url, "headers": {"x-extra": "1"}, "body": {"case": "{{ id }}", "p": "{{ priority }}"}, "secret": SECRET}}],
        "status": "active"})
}

async fn deliver_all(engine: &Engine) {
    for _ in 0..200 {
        engine.deliver_outbox_until_idle().await.unwrap();
        let pending = engine
            .outbox(
                &engine.ensure_workspace("default").await.unwrap().id,
                &Default::default(),
            )
            .await
            .unwrap();
        if pending
            .items
            .iter()
            .all(|i| i.status != OutboxStatus::Pending)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("outbox did not settle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_and_keep_their_id_across_retries() {
    let sink = HttpSink::start().await;
    let fx = Fixture::with(quick_config(), None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    engine
        .create_automation(&ws.id, hook(format!("{}/ok", sink.url)))
        .await
        .unwrap();
    let case = fx.create("case", json!({"priority": "low"})).await;
    engine.run_until_idle().await.unwrap();
    deliver_all(engine).await;
    let reqs = sink.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.headers["x-extra"], "1");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.body).unwrap(),
        json!({"case": case.id, "p": "low"})
    );
    let id = &r.headers["webhook-id"];
    let ts: i64 = r.headers["webhook-timestamp"].parse().unwrap();
    assert!(signing::verify(
        SECRET,
        id,
        ts,
        r.body.as_bytes(),
        &r.headers["webhook-signature"]
    ));
    let item = &engine
        .outbox(&ws.id, &Default::default())
        .await
        .unwrap()
        .items[0];
    assert_eq!(&item.idempotency_key, id);
    assert_eq!(item.status, OutboxStatus::Delivered);
    assert_eq!(item.attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_retry_until_dead_and_client_errors_do_not() {
    let sink = HttpSink::start().await;
    let mut config = quick_config();
    config.outbox.max_attempts = 4;
    let fx = Fixture::with(config, None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    engine
        .create_automation(&ws.id, hook(format!("{}/status/503", sink.url)))
        .await
        .unwrap();
    engine
        .create_automation(&ws.id, hook(format!("{}/status/400", sink.url)))
        .await
        .unwrap();
    engine
        .create_automation(&ws.id, hook(format!("{}/status/429", sink.url)))
        .await
        .unwrap();
    fx.create("case", json!({})).await;
    engine.run_until_idle().await.unwrap();
    deliver_all(engine).await;
    let reqs = sink.requests();
    let count = |p: &str| reqs.iter().filter(|r| r.path == p).count();
    assert_eq!(count("/status/503"), 4);
    assert_eq!(count("/status/429"), 4);
    assert_eq!(count("/status/400"), 1);
    // Every retry of one item carries the same webhook-id.
    let ids: std::collections::HashSet<_> = reqs
        .iter()
        .filter(|r| r.path == "/status/503")
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert_eq!(ids.len(), 1);
    let items = engine
        .outbox(&ws.id, &Default::default())
        .await
        .unwrap()
        .items;
    assert!(items.iter().all(|i| i.status == OutboxStatus::Dead));
    let four_hundred = items
        .iter()
        .find(|i| i.payload["url"].as_str().unwrap().ends_with("/400"))
        .unwrap();
    assert_eq!(four_hundred.attempts, 1);
    assert!(
        four_hundred
            .last_error
            .as_deref()
            .unwrap()
            .contains("not retried")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_targets_are_refused_unless_allowed() {
    let sink = HttpSink::start().await;
    let mut config = quick_config();
    config.outbox.allow_private = false;
    let fx = Fixture::with(config, None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    engine
        .create_automation(&ws.id, hook(format!("{}/ok", sink.url)))
        .await
        .unwrap();
    fx.create("case", json!({})).await;
    engine.run_until_idle().await.unwrap();
    deliver_all(engine).await;
    assert!(sink.requests().is_empty());
    let item = &engine
        .outbox(&ws.id, &Default::default())
        .await
        .unwrap()
        .items[0];
    assert_eq!(item.kind, OutboxKind::Webhook);
    assert_eq!(item.status, OutboxStatus::Dead);
    assert!(
        item.last_error
            .as_deref()
            .unwrap()
            .contains("private or loopback")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_outcome_is_recorded_without_waiting_for_the_slowest_delivery() {
    let sink = HttpSink::start().await;
    let fx = Fixture::with(quick_config(), None).await;
    let (engine, ws) = (&fx.engine, &fx.ws);
    let def = json!({"name": "two hooks", "trigger": {"event": "case.created"},
        "actions": [
            {"type": "webhook", "params": {"url": format!("{}/sleep/1500", sink.url), "body": {}}},
            {"type": "webhook", "params": {"url": format!("{}/fast", sink.url), "body": {}}}
        ], "status": "active"});
    engine.create_automation(&ws.id, def).await.unwrap();
    fx.create("case", json!({"priority": "low"})).await;
    engine.run_until_idle().await.unwrap();
    let started = std::time::Instant::now();
    let round = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.deliver_outbox_once().await.unwrap() })
    };
    // Both items are in one claimed batch; the fast one is recorded while the slow one
    // is still in flight.
    loop {
        let items = engine
            .outbox(&ws.id, &Default::default())
            .await
            .unwrap()
            .items;
        let status = |suffix: &str| {
            items
                .iter()
                .find(|i| i.payload["url"].as_str().unwrap().ends_with(suffix))
                .unwrap()
                .status
        };
        if status("/fast") == OutboxStatus::Delivered {
            assert_eq!(status("/sleep/1500"), OutboxStatus::Pending);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_millis(1200),
            "the fast delivery was not recorded before the slow one ended"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(round.await.unwrap(), 2);
    let items = engine
        .outbox(&ws.id, &Default::default())
        .await
        .unwrap()
        .items;
    assert!(items.iter().all(|i| i.status == OutboxStatus::Delivered));
    assert_eq!(sink.requests().len(), 2);
}
