//! Human tasks, timers, the outbox (queued, inserted, claimed under a lease, updated) and
//! the local mailbox.

use automations_runtime::error::RuntimeError;
use automations_runtime::model::*;
use automations_runtime::store::{Store, StoreTx};
use serde_json::json;

use super::fixtures::*;

pub async fn tasks_complete_once<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    tx.insert_task(&task("w1", "t1", "r1", 1)).await.unwrap();
    let mut closed = task("w1", "t0", "r1", 0);
    closed.status = TaskStatus::Cancelled;
    tx.insert_task(&closed).await.unwrap();
    assert_eq!(
        tx.open_task_for_run("w1", "r1").await.unwrap().unwrap().id,
        "t1"
    );
    assert!(tx.open_task_for_run("w1", "r2").await.unwrap().is_none());
    assert!(tx.open_task_for_run("w2", "r1").await.unwrap().is_none());
    assert!(
        tx.task("w2", "t1").await.unwrap().is_none(),
        "other workspace"
    );
    assert_eq!(tx.task("w1", "t1").await.unwrap().unwrap().title, "task t1");
    assert!(
        !tx.transition_task(
            "w2",
            "t1",
            TaskStatus::Open,
            TaskStatus::Completed,
            None,
            at(60)
        )
        .await
        .unwrap(),
        "other workspace"
    );
    let output = json!({"approved": true});
    assert!(
        tx.transition_task(
            "w1",
            "t1",
            TaskStatus::Open,
            TaskStatus::Completed,
            Some(&output),
            at(70)
        )
        .await
        .unwrap()
    );
    assert!(
        !tx.transition_task(
            "w1",
            "t1",
            TaskStatus::Open,
            TaskStatus::TimedOut,
            None,
            at(80)
        )
        .await
        .unwrap(),
        "the compare-and-set fails the second time"
    );
    tx.reassign_task("w1", "t0", Some("u9"), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let t = s.task("w1", "t1").await.unwrap().unwrap();
    assert_eq!(
        (t.status, t.output, t.completed_at),
        (TaskStatus::Completed, Some(output), Some(at(70)))
    );
    assert_eq!(
        (t.form, t.due_at, t.timeout_at),
        (json!({"approved": "bool"}), Some(at(1000)), Some(at(2000)))
    );
    assert_eq!(
        (t.on_timeout.as_deref(), t.dry_run, t.created_at),
        (Some("fail"), false, at(1))
    );
    let t0 = s.task("w1", "t0").await.unwrap().unwrap();
    assert_eq!((t0.assignee.as_deref(), t0.queue), (Some("u9"), None));
    assert!(s.task("w2", "t1").await.unwrap().is_none());
}

pub async fn tasks_list_and_page<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for i in 0..5 {
        let mut t = task("w1", &format!("t{i}"), "r1", i);
        t.assignee = Some(if i < 3 { "u1" } else { "u2" }.into());
        t.queue = Some(if i % 2 == 0 { "q1" } else { "q2" }.into());
        if i == 0 {
            t.status = TaskStatus::Completed;
        }
        tx.insert_task(&t).await.unwrap();
    }
    tx.insert_task(&task("w2", "x1", "r1", 0)).await.unwrap();
    tx.commit().await.unwrap();
    let list = |f: TaskFilter| async move { s.tasks("w1", &f).await };
    let all = list(TaskFilter::default()).await.unwrap();
    assert_eq!(ids(&all.items, |t| &t.id), ["t4", "t3", "t2", "t1", "t0"]);
    let open = list(TaskFilter {
        status: Some(TaskStatus::Open),
        limit: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&open.items, |t| &t.id), ["t4", "t3"]);
    let f = TaskFilter {
        status: Some(TaskStatus::Open),
        limit: 2,
        cursor: open.next_cursor,
        ..Default::default()
    };
    assert_eq!(ids(&list(f).await.unwrap().items, |t| &t.id), ["t2", "t1"]);
    let u1q1 = list(TaskFilter {
        assignee: Some("u1".into()),
        queue: Some("q1".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&u1q1.items, |t| &t.id), ["t2", "t0"]);
    match list(TaskFilter {
        cursor: Some("x1".into()),
        ..Default::default()
    })
    .await
    {
        Err(RuntimeError::NotFound { what: "cursor", .. }) => {}
        other => panic!("another workspace's task is no cursor: {other:?}"),
    }
}

pub async fn timers_fire_once<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    tx.insert_timer(&timer("w1", "t2", "r1", 20)).await.unwrap();
    tx.insert_timer(&timer("w1", "t1", "r1", 10)).await.unwrap();
    let mut timeout = timer("w1", "t3", "r2", 5);
    timeout.kind = TimerKind::TaskTimeout;
    tx.insert_timer(&timeout).await.unwrap();
    tx.insert_timer(&timer("w1", "t4", "r3", 500))
        .await
        .unwrap();
    let due = tx.due_timers(at(20), 10).await.unwrap();
    assert_eq!(
        ids(&due, |t| &t.id),
        ["t3", "t1", "t2"],
        "earliest first, due at or before now"
    );
    assert_eq!(due[0].kind, TimerKind::TaskTimeout);
    assert_eq!(
        (
            due[1].fire_at,
            due[1].run_id.as_str(),
            due[1].step_id.as_str()
        ),
        (at(10), "r1", "wait")
    );
    assert_eq!(tx.due_timers(at(20), 1).await.unwrap().len(), 1);
    assert!(
        !tx.close_timer("w2", "t3", "fired").await.unwrap(),
        "other workspace"
    );
    assert!(tx.close_timer("w1", "t3", "fired").await.unwrap());
    assert!(
        !tx.close_timer("w1", "t3", "fired").await.unwrap(),
        "closed once"
    );
    tx.cancel_timers_for_run("w2", "r1").await.unwrap();
    assert!(
        tx.close_timer("w1", "t2", "fired").await.unwrap(),
        "another workspace's cancel left it pending"
    );
    tx.cancel_timers_for_run("w1", "r1").await.unwrap();
    assert!(
        !tx.close_timer("w1", "t1", "fired").await.unwrap(),
        "cancelled with its run"
    );
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    assert!(tx.due_timers(at(100), 10).await.unwrap().is_empty());
    assert_eq!(
        ids(&tx.due_timers(at(500), 10).await.unwrap(), |t| &t.id),
        ["t4"]
    );
}

/// Queued items are written once per idempotency key, before anything in the
/// transaction could look for them; a rolled-back savepoint drops those queued after it.
pub async fn outbox_queued_once_per_key<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    tx.queue_outbox(&outbox("w1", "o1", "k1", 0)).await.unwrap();
    tx.queue_outbox(&outbox("w1", "o2", "k1", 0)).await.unwrap();
    tx.queue_outbox(&outbox("w1", "o3", "k2", 0)).await.unwrap();
    assert!(
        !tx.insert_outbox(&outbox("w1", "o4", "k2", 0))
            .await
            .unwrap(),
        "sees the queued ones"
    );
    assert!(
        tx.insert_outbox(&outbox("w1", "o8", "k8", 0))
            .await
            .unwrap()
    );
    tx.queue_outbox(&outbox("w1", "o5", "k3", 0)).await.unwrap();
    tx.savepoint().await.unwrap();
    tx.queue_outbox(&outbox("w1", "o6", "k4", 0)).await.unwrap();
    tx.rollback_to_savepoint().await.unwrap();
    tx.queue_outbox(&outbox("w1", "o7", "k5", 0)).await.unwrap();
    tx.commit().await.unwrap();
    let f = OutboxFilter {
        limit: 100,
        ..Default::default()
    };
    let mut got = ids(&s.outbox("w1", &f).await.unwrap().items, |o| &o.id);
    got.sort();
    assert_eq!(got, ["o1", "o3", "o5", "o7", "o8"]);
}

/// The outbox worker's outcomes written outside a transaction: a few items (one
/// statement on SQLite) or more than one statement holds, each row in its own workspace.
pub async fn outbox_outcomes_written_alone<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    let items: Vec<OutboxItem> = (0..250)
        .map(|i| outbox("w1", &format!("o{i:03}"), &format!("k{i}"), 0))
        .collect();
    for o in &items {
        tx.insert_outbox(o).await.unwrap();
    }
    tx.insert_outbox(&outbox("w2", "x1", "kx", 0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let delivered = |o: &OutboxItem| OutboxItem {
        status: OutboxStatus::Delivered,
        attempts: 1,
        delivered_at: Some(at(31)),
        ..o.clone()
    };
    let mut few: Vec<OutboxItem> = items[..3].iter().map(delivered).collect();
    // The same id in another workspace: that row is not this item.
    let mut foreign = delivered(&outbox("w2", "x1", "kx", 0));
    foreign.workspace_id = "w1".into();
    few.push(foreign);
    s.update_outbox_alone(&few).await.unwrap();
    // Gathered once the write can start (the outbox worker's form); more items than one
    // statement takes.
    let many: Vec<OutboxItem> = items[3..].iter().map(delivered).collect();
    let mut gathered = 0;
    s.update_outbox_gathered(|| {
        gathered += 1;
        many
    })
    .await
    .unwrap();
    assert_eq!(gathered, 1, "gathered once");
    let filter = OutboxFilter {
        status: Some(OutboxStatus::Delivered),
        limit: 500,
        ..Default::default()
    };
    let done = s.outbox("w1", &filter).await.unwrap().items;
    assert_eq!(done.len(), 250, "every item of both writes");
    assert!(
        done.iter()
            .all(|o| o.attempts == 1 && o.delivered_at == Some(at(31)))
    );
    let other = s
        .outbox("w2", &OutboxFilter::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        (other[0].status, other[0].attempts),
        (OutboxStatus::Pending, 0),
        "another workspace's row is untouched"
    );
}

/// One outcome at a time (a plain `UPDATE` on SQLite): every state column is written, a
/// later outcome overwrites an earlier one, and a row is changed only in its own workspace.
pub async fn outbox_outcome_of_one_item<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    tx.insert_outbox(&outbox("w1", "o1", "k1", 0))
        .await
        .unwrap();
    tx.insert_outbox(&outbox("w2", "x1", "kx", 0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut foreign = outbox("w2", "x1", "kx", 0);
    foreign.workspace_id = "w1".into();
    foreign.status = OutboxStatus::Dead;
    foreign.attempts = 5;
    s.update_outbox_alone(&[foreign]).await.unwrap();
    let state = |o: &OutboxItem| {
        (
            o.status,
            o.attempts,
            o.last_error.clone(),
            o.next_attempt_at,
            o.delivered_at,
        )
    };
    let read = |ws: &'static str| async move {
        let items = s.outbox(ws, &OutboxFilter::default()).await.unwrap().items;
        assert_eq!(items.len(), 1);
        state(&items[0])
    };
    let mut retry = outbox("w1", "o1", "k1", 0);
    retry.attempts = 1;
    retry.last_error = Some("503 from the receiver".into());
    retry.next_attempt_at = at(40);
    s.update_outbox_alone(std::slice::from_ref(&retry))
        .await
        .unwrap();
    assert_eq!(read("w1").await, state(&retry));
    let delivered = OutboxItem {
        status: OutboxStatus::Delivered,
        attempts: 2,
        last_error: None,
        next_attempt_at: at(41),
        delivered_at: Some(at(42)),
        ..retry
    };
    s.update_outbox_alone(std::slice::from_ref(&delivered))
        .await
        .unwrap();
    assert_eq!(read("w1").await, state(&delivered));
    assert_eq!(
        read("w2").await,
        (OutboxStatus::Pending, 0, None, at(0), None),
        "another workspace's row is untouched"
    );
}

pub async fn outbox_claim_under_lease<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for (id, due) in [("o3", 30), ("o1", 10), ("o2", 20), ("o9", 900)] {
        tx.insert_outbox(&outbox("w1", id, &format!("k_{id}"), due))
            .await
            .unwrap();
    }
    let mut dead = outbox("w1", "o0", "k_o0", 0);
    dead.status = OutboxStatus::Dead;
    tx.insert_outbox(&dead).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await.unwrap();
    let mut claimed = tx.claim_outbox(at(30), at(5000), 2).await.unwrap();
    claimed.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        ids(&claimed, |o| &o.id),
        ["o1", "o2"],
        "the oldest due ones"
    );
    assert!(
        claimed.iter().all(|o| o.next_attempt_at == at(5000)),
        "the lease is the next attempt"
    );
    let again = tx.claim_outbox(at(30), at(5000), 10).await.unwrap();
    assert_eq!(
        ids(&again, |o| &o.id),
        ["o3"],
        "leased items are not claimed twice"
    );
    let mut o = claimed[0].clone();
    o.status = OutboxStatus::Delivered;
    o.attempts = 1;
    o.delivered_at = Some(at(31));
    o.last_error = Some("first try failed".into());
    // Two outcomes in one call: each row gets its own values.
    let mut retry = claimed[1].clone();
    retry.attempts = 1;
    retry.last_error = Some("503 from the receiver".into());
    retry.next_attempt_at = at(40);
    tx.update_outbox(&[o.clone(), retry]).await.unwrap();
    tx.commit().await.unwrap();
    let pending = OutboxFilter {
        status: Some(OutboxStatus::Pending),
        ..Default::default()
    };
    let o2 = s.outbox("w1", &pending).await.unwrap().items;
    let o2 = o2.iter().find(|i| i.id == "o2").expect("o2 still pending");
    assert_eq!(
        (o2.attempts, o2.last_error.as_deref(), o2.next_attempt_at),
        (1, Some("503 from the receiver"), at(40))
    );
    let mut tx = s.begin().await.unwrap();
    let mut after = ids(
        &tx.claim_outbox(at(5000), at(6000), 10).await.unwrap(),
        |o| &o.id,
    );
    after.sort();
    assert_eq!(after, ["o2", "o3", "o9"], "lease expired: claimable again");
    drop(tx);
    let f = OutboxFilter {
        status: Some(OutboxStatus::Delivered),
        ..Default::default()
    };
    let d = s.outbox("w1", &f).await.unwrap().items;
    assert_eq!(ids(&d, |o| &o.id), ["o1"]);
    assert_eq!(
        (d[0].attempts, d[0].delivered_at, d[0].last_error.as_deref()),
        (1, Some(at(31)), Some("first try failed"))
    );
    assert_eq!(d[0].payload, outbox("w1", "o1", "k", 0).payload);
    assert_eq!(
        d[0].retry,
        outbox("w1", "o1", "k", 0).retry,
        "the step's retry policy"
    );
    let mut tx = s.begin().await.unwrap();
    let mut plain = outbox("w1", "o_plain", "k_plain", 0);
    plain.retry = None;
    tx.queue_outbox(&plain).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    let claimed = tx.claim_outbox(at(7000), at(8000), 10).await.unwrap();
    let plain = claimed.iter().find(|o| o.id == "o_plain").unwrap();
    assert_eq!(plain.retry, None, "no policy: the outbox defaults");
    assert!(claimed.iter().any(|o| o.id == "o9" && o.retry.is_some()));
}

/// The claim as a write of its own: committed when it returns, and sixteen racing
/// claims share the due items out, each item to exactly one of them.
pub async fn outbox_claimed_alone_once_each<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for i in 0..40 {
        let id = format!("o{i:02}");
        tx.insert_outbox(&outbox("w1", &id, &format!("k_{id}"), i))
            .await
            .unwrap();
    }
    tx.insert_outbox(&outbox("w1", "later", "k_later", 900))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let first = s.claim_outbox_alone(at(100), at(5000), 2).await.unwrap();
    let mut first = ids(&first, |o| &o.id);
    first.sort();
    assert_eq!(first, ["o00", "o01"], "the oldest due ones");
    let pending = OutboxFilter {
        status: Some(OutboxStatus::Pending),
        limit: 100,
        ..Default::default()
    };
    let stored = s.outbox("w1", &pending).await.unwrap().items;
    let leased: Vec<_> = stored
        .iter()
        .filter(|o| o.next_attempt_at == at(5000))
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(leased.len(), 2, "the claim is committed: {leased:?}");

    let claims = (0..16).map(|_| s.claim_outbox_alone(at(100), at(5000), 3));
    let mut claimed: Vec<String> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .flat_map(|c| c.unwrap())
        .map(|o| o.id)
        .collect();
    claimed.sort();
    let expected: Vec<String> = (2..40).map(|i| format!("o{i:02}")).collect();
    assert_eq!(claimed, expected, "each due item once, nothing not yet due");
    let none = s.claim_outbox_alone(at(100), at(5000), 10).await.unwrap();
    assert!(none.is_empty(), "all leased: {none:?}");
}

pub async fn outbox_list_and_page<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for i in 0..4 {
        let mut o = outbox("w1", &format!("o{i}"), &format!("k{i}"), i);
        o.kind = if i < 2 {
            OutboxKind::Email
        } else {
            OutboxKind::Webhook
        };
        o.run_id = Some(format!("r{}", i % 2));
        tx.insert_outbox(&o).await.unwrap();
    }
    tx.insert_outbox(&outbox("w2", "x1", "kx", 0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let list = |f: OutboxFilter| async move { s.outbox("w1", &f).await };
    let p1 = list(OutboxFilter {
        limit: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&p1.items, |o| &o.id), ["o3", "o2", "o1"]);
    let p2 = list(OutboxFilter {
        limit: 3,
        cursor: p1.next_cursor,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        (ids(&p2.items, |o| &o.id), p2.next_cursor),
        (vec!["o0".to_string()], None)
    );
    let email = list(OutboxFilter {
        kind: Some(OutboxKind::Email),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&email.items, |o| &o.id), ["o1", "o0"]);
    let r1 = list(OutboxFilter {
        run_id: Some("r1".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&r1.items, |o| &o.id), ["o3", "o1"]);
    match list(OutboxFilter {
        cursor: Some("x1".into()),
        ..Default::default()
    })
    .await
    {
        Err(RuntimeError::NotFound { what: "cursor", .. }) => {}
        other => panic!("another workspace's item is no cursor: {other:?}"),
    }
}

pub async fn mailbox_once_per_outbox_item<S: Store>(s: &S) {
    let m = |id: &str, outbox_id: &str| MailboxMessage {
        id: id.into(),
        workspace_id: "w1".into(),
        outbox_id: outbox_id.into(),
        to: vec!["a@example.com".into()],
        cc: vec!["b@example.com".into()],
        subject: "Subject ✓".into(),
        body: "line 1\nline 2".into(),
        created_at: at(4),
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_mail(&m("m2", "o2")).await.unwrap();
    tx.insert_mail(&m("m1", "o1")).await.unwrap();
    tx.insert_mail(&m("m3", "o1")).await.unwrap();
    tx.commit().await.unwrap();
    let got = s.mailbox("w1").await.unwrap();
    assert_eq!(
        ids(&got, |m| &m.id),
        ["m1", "m2"],
        "by id, one per outbox item"
    );
    assert_eq!(
        (got[0].to.clone(), got[0].cc.clone()),
        (
            vec!["a@example.com".to_string()],
            vec!["b@example.com".to_string()]
        )
    );
    assert_eq!(
        (
            got[0].subject.as_str(),
            got[0].body.as_str(),
            got[0].created_at
        ),
        ("Subject ✓", "line 1\nline 2", at(4))
    );
    assert!(s.mailbox("w2").await.unwrap().is_empty());
}
