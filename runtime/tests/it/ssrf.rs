//! Webhook destinations through the one network policy (`automations-net`): a name is
//! resolved once and the delivery connects to the address that was judged, so a name
//! that rebinds to a private address on its next lookup reaches nothing; every spelling
//! of a private address is refused.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use automations_net::Resolver;
use automations_runtime::model::{OutboxItem, OutboxStatus};

use crate::support::*;

/// Answers `first` on the first lookup and `then` on every later one; counts lookups.
struct Rebinding {
    first: SocketAddr,
    then: SocketAddr,
    lookups: AtomicUsize,
}

impl Resolver for Rebinding {
    fn lookup(&self, _host: &str, _port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let n = self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok(vec![if n == 0 { self.first } else { self.then }])
    }
}

fn hook(url: &str) -> serde_json::Value {
    json!({"name": "hook", "trigger": {"event": "case.created"},
        "actions": [{"type": "webhook", "params": {"url": url, "body": {"case": "{{ id }}"}}}],
        "status": "active"})
}

async fn one_delivery(fx: &Fixture, url: &str) -> OutboxItem {
    fx.engine
        .create_automation(&fx.ws.id, hook(url))
        .await
        .unwrap();
    fx.create("case", json!({})).await;
    fx.engine.run_until_idle().await.unwrap();
    fx.engine.deliver_outbox_once().await.unwrap();
    fx.engine
        .outbox(&fx.ws.id, &Default::default())
        .await
        .unwrap()
        .items
        .remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebinding_name_is_resolved_once_and_never_reaches_the_private_address() {
    let sink = HttpSink::start().await;
    let local: SocketAddr = sink.url.trim_start_matches("http://").parse().unwrap();
    // A public (documentation, unroutable) address first; the sink's loopback address on
    // every later lookup, as a hostile DNS server would answer after the check.
    let resolver = Arc::new(Rebinding {
        first: "192.0.2.10:0".parse().unwrap(),
        then: local,
        lookups: AtomicUsize::new(0),
    });
    let mut config = quick_config();
    config.outbox.allow_private = false;
    config.outbox.request_timeout = Duration::from_millis(500);
    config.outbox.resolver = resolver.clone();
    let fx = Fixture::with(config, None).await;
    let url = format!("http://rebind.example:{}/hook", local.port());
    let item = one_delivery(&fx, &url).await;
    assert!(
        sink.requests().is_empty(),
        "the private address was reached"
    );
    assert_eq!(
        resolver.lookups.load(Ordering::SeqCst),
        1,
        "one lookup per attempt"
    );
    assert_eq!(item.status, OutboxStatus::Pending, "{:?}", item.last_error);
    assert_eq!(item.attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_answering_only_private_addresses_is_refused_for_good() {
    let resolver = Arc::new(Rebinding {
        first: "169.254.169.254:0".parse().unwrap(),
        then: "169.254.169.254:0".parse().unwrap(),
        lookups: AtomicUsize::new(0),
    });
    let mut config = quick_config();
    config.outbox.allow_private = false;
    config.outbox.resolver = resolver;
    let fx = Fixture::with(config, None).await;
    let item = one_delivery(&fx, "http://metadata.example/latest").await;
    assert_eq!(item.status, OutboxStatus::Dead);
    let error = item.last_error.unwrap();
    assert!(error.contains("cloud metadata"), "{error}");
}

/// Spellings of loopback, private and metadata addresses a URL parser turns into the
/// same addresses; each one is refused without any request going out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_spelling_of_a_private_address_is_refused() {
    let sink = HttpSink::start().await;
    let port = sink.url.rsplit(':').next().unwrap().to_string();
    let spellings = [
        "127.0.0.1",
        "127.1",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "2130706433",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "0.0.0.0",
        "169.254.169.254",
        "[fd00:ec2::254]",
        "10.0.0.1",
        "localhost",
    ];
    for host in spellings {
        let mut config = quick_config();
        config.outbox.allow_private = false;
        config.outbox.request_timeout = Duration::from_millis(500);
        let fx = Fixture::with(config, None).await;
        let item = one_delivery(&fx, &format!("http://{host}:{port}/x")).await;
        assert_eq!(
            item.status,
            OutboxStatus::Dead,
            "{host}: {:?}",
            item.last_error
        );
        assert!(
            item.last_error.as_deref().unwrap_or("").contains("refused"),
            "{host}: {:?}",
            item.last_error
        );
    }
    assert!(sink.requests().is_empty());
}
