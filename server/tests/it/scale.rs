//! Many automations in one workspace: what a create costs as the workspace grows (DESIGN
//! §13: in proportion to that automation, not to the workspace). A measurement, not a
//! test of time: it prints figures and asserts only that every create succeeded.
//!
//! `SCALE_AT=300,1500,5000 cargo test --release -p automations-server --test it
//! many_automations -- --ignored --nocapture` (the default checkpoints are those).

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

/// An active automation on one of a few triggers, with its own condition value.
fn definition(n: usize) -> Value {
    let (event, field) = match n % 4 {
        0 => ("case.created", "subject"),
        1 => ("case.updated", "subject"),
        2 => ("lead.created", "email"),
        _ => ("opportunity.created", "name"),
    };
    json!({
        "name": format!("automation {n}"),
        "trigger": { "event": event, "conditions": { field: format!("value {n}") } },
        "actions": [
            { "type": "send_notification", "params": { "channel": "slack", "message": format!("hit {n}") } }
        ],
        "status": if n.is_multiple_of(5) { "draft" } else { "active" }
    })
}

async fn create(app: &TestApp, n: usize) -> Duration {
    let started = Instant::now();
    let answer = app.post("/api/v1/automations", &definition(n)).await;
    let took = started.elapsed();
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    took
}

fn p50(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
#[ignore = "a measurement: run by hand with --ignored --nocapture"]
async fn many_automations_create_cost() {
    let checkpoints: Vec<usize> = std::env::var("SCALE_AT")
        .unwrap_or_else(|_| "300,1500,5000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("SCALE_AT: numbers"))
        .collect();
    let app = TestApp::new().await;
    let mut made = 0;
    let started = Instant::now();
    for at in checkpoints {
        while made < at {
            create(&app, made).await;
            made += 1;
        }
        // 40 more creates measured at this size (the workspace grows by 40).
        let mut samples = Vec::new();
        for _ in 0..40 {
            samples.push(create(&app, made).await);
            made += 1;
        }
        let index = app.engine().dispatch_index();
        println!(
            "at {at} automations: create p50 {:.2} ms (40 creates; {} active in the dispatch index; {:.1} s so far)",
            p50(samples).as_secs_f64() * 1e3,
            index.len(),
            started.elapsed().as_secs_f64()
        );
    }
}
