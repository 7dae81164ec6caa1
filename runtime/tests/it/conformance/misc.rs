//! In-app notifications, the audit log and the plugin tables.

use automations_runtime::error::RuntimeError;
use automations_runtime::model::*;
use automations_runtime::store::{ArtifactKey, PluginGrantRow, PluginVersionRow, Store, StoreTx};
use serde_json::json;

use super::fixtures::*;

pub async fn notifications_read_and_page<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    for (id, user, ms) in [
        ("n1", "u1", 1),
        ("n2", "u1", 2),
        ("n3", "u2", 3),
        ("n4", "u1", 4),
        ("n5", "u1", 4),
    ] {
        tx.insert_notification(&notification("w1", id, user, ms))
            .await
            .unwrap();
    }
    tx.insert_notification(&notification("w2", "x1", "u1", 1))
        .await
        .unwrap();
    assert_eq!(
        tx.mark_notifications_read("w1", Some("n4"), None, at(50))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tx.mark_notifications_read("w1", Some("n4"), None, at(60))
            .await
            .unwrap(),
        0,
        "already read"
    );
    assert_eq!(
        tx.mark_notifications_read("w1", Some("n3"), Some("u1"), at(60))
            .await
            .unwrap(),
        0,
        "both filters"
    );
    assert_eq!(
        tx.mark_notifications_read("w1", Some("x1"), None, at(60))
            .await
            .unwrap(),
        0,
        "other workspace"
    );
    tx.commit().await.unwrap();

    let all = s.notifications("w1", None).await.unwrap();
    assert_eq!(ids(&all, |n| &n.id), ["n1", "n2", "n3", "n4", "n5"]);
    let u2 = s.notifications("w1", Some("u2")).await.unwrap();
    assert_eq!(ids(&u2, |n| &n.id), ["n3"]);
    let n4 = s.notification("w1", "n4").await.unwrap().unwrap();
    assert_eq!(
        (n4.read_at, n4.created_at, n4.run_id.as_deref()),
        (Some(at(50)), at(4), Some("r1"))
    );
    assert!(s.notification("w2", "n4").await.unwrap().is_none());

    let list = |f: NotificationFilter| async move { s.notification_page("w1", &f).await };
    let u1 = NotificationFilter {
        user_id: Some("u1".into()),
        ..Default::default()
    };
    let p = list(u1.clone()).await.unwrap();
    assert_eq!(
        ids(&p.items, |n| &n.id),
        ["n5", "n2", "n1", "n4"],
        "unread first, newest first"
    );
    let p1 = list(NotificationFilter {
        limit: 2,
        ..u1.clone()
    })
    .await
    .unwrap();
    assert_eq!(ids(&p1.items, |n| &n.id), ["n5", "n2"]);
    let p2 = list(NotificationFilter {
        limit: 2,
        cursor: p1.next_cursor,
        ..u1.clone()
    })
    .await
    .unwrap();
    assert_eq!(ids(&p2.items, |n| &n.id), ["n1", "n4"]);
    let p3 = list(NotificationFilter {
        limit: 3,
        cursor: Some("n1".into()),
        ..u1.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        ids(&p3.items, |n| &n.id),
        ["n4"],
        "a cursor in the unread part continues into the read part"
    );
    let unread = list(NotificationFilter {
        unread: Some(true),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&unread.items, |n| &n.id), ["n5", "n3", "n2", "n1"]);
    let read = list(NotificationFilter {
        unread: Some(false),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(ids(&read.items, |n| &n.id), ["n4"]);
    match list(NotificationFilter {
        cursor: Some("x1".into()),
        ..Default::default()
    })
    .await
    {
        Err(RuntimeError::NotFound { what: "cursor", .. }) => {}
        other => panic!("another workspace's notification is no cursor: {other:?}"),
    }

    let mut tx = s.begin().await.unwrap();
    assert_eq!(
        tx.mark_notifications_read("w1", None, Some("u1"), at(70))
            .await
            .unwrap(),
        3
    );
    tx.commit().await.unwrap();
    let n4 = s.notification("w1", "n4").await.unwrap().unwrap();
    assert_eq!(
        n4.read_at,
        Some(at(50)),
        "already read ones keep their time"
    );
    assert!(
        s.notification("w1", "n3")
            .await
            .unwrap()
            .unwrap()
            .read_at
            .is_none()
    );
}

pub async fn audit_log_newest_first<S: Store>(s: &S) {
    let actions = [
        AuditAction::AutomationCreate,
        AuditAction::AutomationUpdate,
        AuditAction::PluginGrant,
        AuditAction::TokenRevoke,
    ];
    let mut tx = s.begin().await.unwrap();
    for (i, action) in actions.iter().enumerate() {
        let actor = if i == 0 {
            Actor::system()
        } else {
            Actor::token("tok1", "ci")
        };
        let mut entry = AuditEntry::new(
            "w1",
            &actor,
            *action,
            if i < 2 { "a1" } else { "p" },
            json!({"version": i}),
        );
        entry.created_at = at(i as i64);
        tx.insert_audit(&entry).await.unwrap();
    }
    tx.insert_audit(&AuditEntry::new(
        "w2",
        &Actor::cli(),
        AuditAction::TaskComplete,
        "t1",
        json!({}),
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let list = |f: AuditFilter| async move { s.audit_log("w1", &f).await };
    let all = list(AuditFilter::default()).await.unwrap();
    let got: Vec<AuditAction> = all.items.iter().map(|a| a.action).collect();
    assert_eq!(
        got,
        [
            AuditAction::TokenRevoke,
            AuditAction::PluginGrant,
            AuditAction::AutomationUpdate,
            AuditAction::AutomationCreate
        ]
    );
    assert!(
        all.items.windows(2).all(|w| w[0].id > w[1].id),
        "ids increase with insertion"
    );
    let newest = &all.items[0];
    assert_eq!(
        (newest.actor.clone(), newest.target.as_str()),
        (Actor::token("tok1", "ci"), "p")
    );
    assert_eq!(
        (newest.details.clone(), newest.created_at),
        (json!({"version": 3}), at(3))
    );
    assert_eq!(all.items[3].actor, Actor::system());
    let p1 = list(AuditFilter {
        limit: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(p1.items.len(), 3);
    let p2 = list(AuditFilter {
        limit: 3,
        cursor: p1.next_cursor,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!((p2.items.len(), p2.next_cursor), (1, None));
    let kind = list(AuditFilter {
        kind: Some("automation".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(kind.items.len(), 2);
    let action = list(AuditFilter {
        action: Some(AuditAction::PluginGrant),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(action.items.len(), 1);
    let target = list(AuditFilter {
        target: Some("a1".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(target.items.len(), 2);
    let theirs = s
        .audit_log("w2", &AuditFilter::default())
        .await
        .unwrap()
        .items;
    assert_eq!(theirs.len(), 1);
    for bad in ["x", "999999"] {
        match list(AuditFilter {
            cursor: Some(bad.into()),
            ..Default::default()
        })
        .await
        {
            Err(RuntimeError::NotFound { what: "cursor", .. }) => {}
            other => panic!("{bad} is no cursor: {other:?}"),
        }
    }
    let w2_id = theirs[0].id.to_string();
    assert!(
        list(AuditFilter {
            cursor: Some(w2_id),
            ..Default::default()
        })
        .await
        .is_err(),
        "another workspace's entry"
    );
}

fn plugin(ws: &str, name: &str, version: &str, bytes: &[u8]) -> PluginVersionRow {
    PluginVersionRow {
        workspace_id: ws.into(),
        name: name.into(),
        version: version.into(),
        manifest: json!({"name": name, "version": version}),
        component: bytes.to_vec(),
        sha256: format!("sha-{}", bytes.len()),
        uploaded_at: at(bytes.len() as i64),
    }
}

pub async fn plugin_rows<S: Store>(s: &S) {
    let key = ArtifactKey {
        component_sha256: "sha-3",
        engine_hash: "e1",
    };
    let mut tx = s.begin().await.unwrap();
    tx.upsert_plugin_version(&plugin("w1", "p", "0.1.0", b"one"))
        .await
        .unwrap();
    tx.upsert_plugin_version(&plugin("w1", "p", "0.2.0", b"twoo"))
        .await
        .unwrap();
    tx.upsert_plugin_version(&plugin("w1", "p", "0.1.0", &[0, 255, 1, 2, 3]))
        .await
        .unwrap();
    tx.upsert_plugin_version(&plugin("w2", "q", "1.0.0", b"x"))
        .await
        .unwrap();
    let grant = |caps: &[&str]| PluginGrantRow {
        workspace_id: "w1".into(),
        name: "p".into(),
        capabilities: caps.iter().map(|c| c.to_string()).collect(),
        granted_at: at(9),
    };
    tx.upsert_plugin_grant(&grant(&["http"])).await.unwrap();
    tx.upsert_plugin_grant(&grant(&["http", "records:read"]))
        .await
        .unwrap();
    tx.save_plugin_artifact(key, b"compiled").await.unwrap();
    tx.save_plugin_artifact(key, b"other").await.unwrap();
    tx.commit().await.unwrap();

    let w1 = s.plugin_versions(Some("w1")).await.unwrap();
    let got: Vec<(&str, &[u8])> = w1
        .iter()
        .map(|v| (v.version.as_str(), v.component.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            ("0.2.0", b"twoo".as_slice()),
            ("0.1.0", &[0, 255, 1, 2, 3][..])
        ],
        "oldest upload first; replaced"
    );
    assert_eq!(w1[1].manifest, json!({"name": "p", "version": "0.1.0"}));
    assert_eq!((w1[1].sha256.as_str(), w1[1].uploaded_at), ("sha-5", at(5)));
    assert_eq!(s.plugin_versions(None).await.unwrap().len(), 3);
    let grants = s.plugin_grants(Some("w1")).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].capabilities, ["http", "records:read"]);
    assert_eq!(grants[0].granted_at, at(9));
    assert!(s.plugin_grants(Some("w2")).await.unwrap().is_empty());
    assert_eq!(s.plugin_grants(None).await.unwrap().len(), 1);
    assert_eq!(
        s.plugin_artifact(key).await.unwrap().as_deref(),
        Some(b"compiled".as_slice()),
        "first save kept"
    );
    let other = ArtifactKey {
        component_sha256: "sha-3",
        engine_hash: "e2",
    };
    assert!(s.plugin_artifact(other).await.unwrap().is_none());
}
