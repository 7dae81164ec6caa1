//! One slow receiver must not hold back other deliveries: the outbox worker keeps claiming
//! while deliveries are in flight, at most `per_destination` of them to one destination,
//! and a 429/503 with `Retry-After` holds back that destination only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use automations_runtime::model::{OutboxItem, OutboxStatus};

use crate::support::*;

/// A receiver that reads each request and answers what `answer(n)` says for the n-th
/// request (0-based) after `hold`; it counts open exchanges and keeps arrival times.
struct Receiver {
    url: String,
    open: Arc<AtomicUsize>,
    max_open: Arc<AtomicUsize>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

async fn receiver(hold: Duration, answer: fn(usize) -> &'static str) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let open = Arc::new(AtomicUsize::new(0));
    let max_open = Arc::new(AtomicUsize::new(0));
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let (o, m, a) = (open.clone(), max_open.clone(), arrivals.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (o, m, a) = (o.clone(), m.clone(), a.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16384];
                let mut data = Vec::new();
                // Read until the head and its body are in (the bodies here are small).
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&data);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let l = l.to_ascii_lowercase();
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0usize);
                        if data.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let index = {
                    let mut arrivals = a.lock().unwrap();
                    arrivals.push(Instant::now());
                    arrivals.len() - 1
                };
                let now_open = o.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now_open, Ordering::SeqCst);
                tokio::time::sleep(hold).await;
                // Closed before answering: once answered, the sender may start its next
                // delivery before this task would run again.
                o.fetch_sub(1, Ordering::SeqCst);
                let _ = socket.write_all(answer(index).as_bytes()).await;
            });
        }
    });
    Receiver {
        url,
        open,
        max_open,
        arrivals,
    }
}

const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok";
const TOO_MANY: &str =
    "HTTP/1.1 429 Too Many\r\nretry-after: 2\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

fn on_priority(priority: &str, url: &str) -> serde_json::Value {
    json!({"name": format!("{priority} cases"),
        "trigger": {"event": "case.created", "conditions": {"priority": priority}},
        "actions": [{"type": "webhook", "params": {"url": url, "body": {"case": "{{ id }}"}}}],
        "status": "active"})
}

async fn wait_until(what: &str, limit: Duration, done: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

/// The workspace's outbox items in `status` (up to 1,000).
async fn outbox_items(fx: &Fixture, status: OutboxStatus) -> Vec<OutboxItem> {
    let filter = automations_runtime::model::OutboxFilter {
        status: Some(status),
        limit: 1000,
        ..Default::default()
    };
    fx.engine.outbox(&fx.ws.id, &filter).await.unwrap().items
}

/// `cases` low-priority cases whose runs queue a webhook to `url`, executed (their
/// deliveries are due, no worker started yet).
async fn queue_webhooks(fx: &Fixture, url: &str, cases: usize) {
    fx.engine
        .create_automation(&fx.ws.id, on_priority("low", url))
        .await
        .unwrap();
    for _ in 0..cases {
        fx.create("case", json!({"priority": "low"})).await;
    }
    fx.engine.run_until_idle().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receiver_hanging_25s_does_not_delay_another_destination() {
    let slow = receiver(Duration::from_secs(25), |_| OK).await;
    let fast = HttpSink::start().await;
    let mut config = quick_config();
    config.outbox.request_timeout = Duration::from_secs(30);
    config.outbox.per_destination = 4;
    let fx = Fixture::with(config, None).await;
    let engine = &fx.engine;
    engine
        .create_automation(&fx.ws.id, on_priority("low", &format!("{}/slow", slow.url)))
        .await
        .unwrap();
    engine
        .create_automation(
            &fx.ws.id,
            on_priority("critical", &format!("{}/fast", fast.url)),
        )
        .await
        .unwrap();
    let workers = engine.start();
    for _ in 0..50 {
        fx.create("case", json!({"priority": "low"})).await;
    }
    wait_until(
        "the slow receiver got its first deliveries",
        Duration::from_secs(10),
        || slow.open.load(Ordering::SeqCst) >= 4,
    )
    .await;
    fx.create("case", json!({"priority": "critical"})).await;
    let took = wait_until(
        "the critical case's webhook",
        Duration::from_secs(5),
        || !fast.requests().is_empty(),
    )
    .await;
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // Give the worker a few more rounds: it must still hold at most 4 to the slow one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        slow.max_open.load(Ordering::SeqCst),
        4,
        "per-destination limit"
    );
    assert_eq!(slow.arrivals.lock().unwrap().len(), 4);
    workers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retry_after_holds_back_that_destination_only() {
    let throttled = receiver(Duration::ZERO, |n| if n == 0 { TOO_MANY } else { OK }).await;
    let other = HttpSink::start().await;
    let fx = Fixture::with(quick_config(), None).await;
    let engine = &fx.engine;
    engine
        .create_automation(
            &fx.ws.id,
            on_priority("low", &format!("{}/t", throttled.url)),
        )
        .await
        .unwrap();
    engine
        .create_automation(
            &fx.ws.id,
            on_priority("critical", &format!("{}/o", other.url)),
        )
        .await
        .unwrap();
    let workers = engine.start();
    fx.create("case", json!({"priority": "low"})).await;
    wait_until("the 429", Duration::from_secs(5), || {
        !throttled.arrivals.lock().unwrap().is_empty()
    })
    .await;
    // The worker knows of the 429 once it stored the attempt (it holds the destination
    // back right after that write, before it claims again): an item queued while the 429
    // was still on its way back may go out at once, as the worker cannot know yet.
    let start = Instant::now();
    while !outbox_items(&fx, OutboxStatus::Pending)
        .await
        .iter()
        .any(|item| item.attempts >= 1)
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the 429's attempt not recorded"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Another item for the throttled destination, and one for another destination.
    fx.create("case", json!({"priority": "low"})).await;
    fx.create("case", json!({"priority": "critical"})).await;
    let other_took = wait_until("the other destination", Duration::from_secs(1), || {
        !other.requests().is_empty()
    })
    .await;
    assert!(other_took < Duration::from_secs(1));
    wait_until(
        "the retry and the held item",
        Duration::from_secs(8),
        || throttled.arrivals.lock().unwrap().len() >= 3,
    )
    .await;
    let arrivals = throttled.arrivals.lock().unwrap().clone();
    for later in &arrivals[1..] {
        let gap = later.duration_since(arrivals[0]);
        assert!(
            gap >= Duration::from_millis(1900),
            "sent {gap:?} after the 429"
        );
    }
    workers.shutdown().await;
}

/// A backlog for one fast destination drains as fast as the receiver answers: an item
/// claimed while the destination's slots are busy waits in memory for the next one
/// instead of being put back for `defer`, which held one destination to
/// `per_destination` deliveries per `defer` (here 300 items would take 225 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backlog_for_one_fast_receiver_is_not_held_to_the_defer_delay() {
    const ITEMS: usize = 300;
    let fast = receiver(Duration::from_millis(1), |_| OK).await;
    let mut config = quick_config();
    config.outbox.per_destination = 4;
    config.outbox.defer = Duration::from_secs(3);
    let fx = Fixture::with(config, None).await;
    let engine = &fx.engine;
    queue_webhooks(&fx, &format!("{}/fast", fast.url), ITEMS).await;
    let workers = engine.start();
    // Generous for a loaded machine, and far under ITEMS / 4 * 3 s.
    wait_until("every delivery", Duration::from_secs(60), || {
        fast.arrivals.lock().unwrap().len() >= ITEMS
    })
    .await;
    assert!(
        fast.max_open.load(Ordering::SeqCst) <= 4,
        "per-destination limit"
    );
    // Every outcome is recorded once the worker settles them: nothing left pending.
    let start = Instant::now();
    loop {
        if outbox_items(&fx, OutboxStatus::Pending).await.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "outcomes not recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivered = outbox_items(&fx, OutboxStatus::Delivered).await;
    assert_eq!(delivered.len(), ITEMS);
    assert_eq!(
        fast.arrivals.lock().unwrap().len(),
        ITEMS,
        "nothing sent twice"
    );
    workers.shutdown().await;
}

/// A shutdown right after the last delivery still writes every outcome (none is left to
/// be re-sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_right_after_deliveries_writes_every_outcome() {
    const ITEMS: usize = 60;
    let fast = receiver(Duration::from_millis(1), |_| OK).await;
    let fx = Fixture::new().await;
    queue_webhooks(&fx, &format!("{}/fast", fast.url), ITEMS).await;
    let workers = fx.engine.start();
    wait_until("every delivery", Duration::from_secs(60), || {
        fast.arrivals.lock().unwrap().len() >= ITEMS
    })
    .await;
    workers.shutdown().await;
    let delivered = outbox_items(&fx, OutboxStatus::Delivered).await;
    assert_eq!(delivered.len(), ITEMS, "every outcome written");
    let pending = outbox_items(&fx, OutboxStatus::Pending).await;
    assert!(pending.is_empty(), "{pending:?}");
}

/// A crash re-sends what was delivered but not yet recorded, so that must stay within a
/// destination's slots: at every moment, the deliveries that reached the receiver minus
/// those recorded as delivered are at most `per_destination` (the ones in flight and
/// the ones whose outcome is being written). Sampled while 300 deliveries go to one
/// receiver: arrivals read first, then the store, so a sample can only undercount.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_but_unrecorded_never_exceeds_the_destination_slots() {
    const ITEMS: usize = 300;
    let fast = receiver(Duration::ZERO, |_| OK).await;
    let fx = Fixture::new().await;
    let slots = fx.engine.config().outbox.per_destination as usize;
    queue_webhooks(&fx, &format!("{}/fast", fast.url), ITEMS).await;
    let workers = fx.engine.start();
    let start = Instant::now();
    let (mut worst, mut samples) = (0, 0);
    loop {
        let arrived = fast.arrivals.lock().unwrap().len();
        let recorded = outbox_items(&fx, OutboxStatus::Delivered).await.len();
        worst = worst.max(arrived.saturating_sub(recorded));
        samples += 1;
        if recorded == ITEMS {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{recorded} delivered"
        );
    }
    workers.shutdown().await;
    assert_eq!(
        fast.arrivals.lock().unwrap().len(),
        ITEMS,
        "nothing sent twice"
    );
    assert!(
        worst <= slots,
        "{worst} delivered but unrecorded at once ({slots} slots, {samples} samples)"
    );
}

/// Outcomes and the API's writes share the one writer connection: while 16 writers race
/// to keep it busy for as long as 200 deliveries take to end, every outcome is written
/// once, nothing is sent twice, and every write answered is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outcomes_share_the_writer_with_sixteen_racing_writers() {
    const ITEMS: usize = 200;
    const WRITERS: usize = 16;
    /// Writes per writer at most (each writes once at least, then stops once every
    /// outcome is written).
    const EACH: usize = 500;
    let fast = receiver(Duration::ZERO, |_| OK).await;
    let fx = Arc::new(Fixture::new().await);
    queue_webhooks(&fx, &format!("{}/fast", fast.url), ITEMS).await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers = fx.engine.start();
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (fx, done) = (fx.clone(), done.clone());
            tokio::spawn(async move {
                let mut ids = Vec::new();
                loop {
                    ids.push(fx.create("case", json!({"priority": "high"})).await.id);
                    if ids.len() == EACH || done.load(Ordering::SeqCst) {
                        return ids;
                    }
                }
            })
        })
        .collect();
    let start = Instant::now();
    while outbox_items(&fx, OutboxStatus::Delivered).await.len() < ITEMS {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "outcomes not all written"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done.store(true, Ordering::SeqCst);
    let mut written = Vec::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    workers.shutdown().await;
    assert_eq!(
        fast.arrivals.lock().unwrap().len(),
        ITEMS,
        "nothing sent twice"
    );
    assert!(outbox_items(&fx, OutboxStatus::Pending).await.is_empty());
    assert!(written.len() >= WRITERS, "{} writes", written.len());
    for id in &written {
        let stored = fx.engine.record(&fx.ws.id, "case", id).await.unwrap();
        assert_eq!(stored.fields["priority"], "high");
    }
}

const FAILING: &str =
    "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// The long-running worker retries a failed delivery once its backoff passed, with no
/// run queued meanwhile to wake it (the item comes due by time alone), and writes each
/// attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_by_the_worker_after_its_backoff() {
    let flaky = receiver(Duration::ZERO, |n| if n < 2 { FAILING } else { OK }).await;
    let fx = Fixture::new().await;
    queue_webhooks(&fx, &format!("{}/flaky", flaky.url), 1).await;
    let workers = fx.engine.start();
    wait_until("the third attempt", Duration::from_secs(20), || {
        flaky.arrivals.lock().unwrap().len() >= 3
    })
    .await;
    let start = Instant::now();
    let delivered = loop {
        if let Some(item) = outbox_items(&fx, OutboxStatus::Delivered).await.pop() {
            break item;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "outcome not written"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(delivered.attempts, 3);
    assert_eq!(
        flaky.arrivals.lock().unwrap().len(),
        3,
        "nothing sent twice"
    );
    workers.shutdown().await;
}
