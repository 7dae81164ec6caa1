//! Transactions and savepoints, workspaces, tokens, automations and their versions,
//! schema extensions.

use automations_runtime::model::*;
use automations_runtime::store::{Store, StoreTx};
use serde_json::json;

use super::fixtures::*;

/// Commit keeps, a dropped transaction rolls back, a savepoint rolled back forgets only
/// what followed it, a released one keeps it. A failed statement spoils what follows it
/// until its savepoint is rolled back: committing then never keeps half a request.
pub async fn transactions_and_savepoints<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    tx.insert_workspace(&workspace("w_drop", "dropped"))
        .await
        .unwrap();
    drop(tx);
    assert!(
        s.workspace("w_drop").await.unwrap().is_none(),
        "dropped tx rolled back"
    );

    let mut tx = s.begin().await.unwrap();
    tx.insert_workspace(&workspace("w1", "one")).await.unwrap();
    tx.savepoint().await.unwrap();
    tx.insert_workspace(&workspace("w2", "two")).await.unwrap();
    tx.rollback_to_savepoint().await.unwrap();
    tx.savepoint().await.unwrap();
    tx.insert_workspace(&workspace("w3", "three"))
        .await
        .unwrap();
    tx.release_savepoint().await.unwrap();
    // A failing statement inside a savepoint leaves the transaction usable after the
    // rollback (group commit relies on it).
    tx.savepoint().await.unwrap();
    assert!(
        tx.insert_workspace(&workspace("w1", "again"))
            .await
            .is_err()
    );
    tx.rollback_to_savepoint().await.unwrap();
    tx.insert_workspace(&workspace("w4", "four")).await.unwrap();
    tx.commit().await.unwrap();
    for (id, kept) in [("w1", true), ("w2", false), ("w3", true), ("w4", true)] {
        assert_eq!(s.workspace(id).await.unwrap().is_some(), kept, "{id}");
    }
    // A failure not rolled back: the commit either fails (nothing kept) or keeps what
    // succeeded (SQLite); it never answers Ok while keeping nothing.
    let mut tx = s.begin().await.unwrap();
    tx.insert_workspace(&workspace("w5", "five")).await.unwrap();
    assert!(
        tx.insert_workspace(&workspace("w1", "again"))
            .await
            .is_err()
    );
    let committed = tx.commit().await.is_ok();
    assert_eq!(s.workspace("w5").await.unwrap().is_some(), committed);
}

pub async fn workspaces_and_sandbox<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    tx.insert_workspace(&workspace("w1", "default"))
        .await
        .unwrap();
    assert!(tx.set_sandbox_active("w1", true).await.unwrap());
    assert!(
        !tx.set_sandbox_active("nope", true).await.unwrap(),
        "unknown workspace"
    );
    tx.commit().await.unwrap();
    let w = s.workspace("w1").await.unwrap().unwrap();
    assert_eq!(
        (w.name.as_str(), w.sandbox_active, w.created_at),
        ("default", true, at(0))
    );
    let by_name = s.workspace_by_name("default").await.unwrap().unwrap();
    assert_eq!(by_name.id, "w1");
    assert!(
        s.workspace_by_name("Default").await.unwrap().is_none(),
        "names are exact"
    );
    let mut tx = s.begin().await.unwrap();
    assert!(
        tx.insert_workspace(&workspace("w2", "default"))
            .await
            .is_err(),
        "unique name"
    );
}

pub async fn tokens<S: Store>(s: &S) {
    let t = ApiToken {
        id: "tok1".into(),
        workspace_id: "w1".into(),
        name: "cli".into(),
        scopes: vec!["automations:write".into(), "runs:write".into()],
        rate_limit: None,
        created_at: at(3),
        revoked_at: None,
    };
    let limited = ApiToken {
        id: "tok2".into(),
        rate_limit: Some(RateLimit::Bucket {
            per_second: 2.5,
            burst: 10.0,
        }),
        created_at: at(4),
        ..t.clone()
    };
    let unlimited = ApiToken {
        id: "tok3".into(),
        workspace_id: "w2".into(),
        rate_limit: Some(RateLimit::Unlimited),
        created_at: at(5),
        ..t.clone()
    };
    let mut tx = s.begin().await.unwrap();
    tx.insert_workspace(&workspace("w1", "default"))
        .await
        .unwrap();
    tx.insert_token(&t, "hash-1").await.unwrap();
    tx.insert_token(&limited, "hash-2").await.unwrap();
    tx.insert_token(&unlimited, "hash-3").await.unwrap();
    assert!(tx.revoke_token("w1", "tok2", at(9)).await.unwrap());
    assert!(
        !tx.revoke_token("w1", "tok2", at(10)).await.unwrap(),
        "revoked once"
    );
    assert!(
        !tx.revoke_token("w1", "tok3", at(10)).await.unwrap(),
        "other workspace"
    );
    tx.commit().await.unwrap();
    let got = s.token_by_hash("hash-1").await.unwrap().unwrap();
    assert_eq!((got.id.as_str(), got.workspace_id.as_str()), ("tok1", "w1"));
    assert_eq!(
        (got.scopes.clone(), got.rate_limit, got.created_at),
        (t.scopes.clone(), None, at(3))
    );
    assert!(
        s.token_by_hash("hash-2").await.unwrap().is_none(),
        "revoked tokens authenticate nothing"
    );
    assert!(s.token_by_hash("nope").await.unwrap().is_none());
    assert_eq!(
        s.token_by_hash("hash-3").await.unwrap().unwrap().rate_limit,
        Some(RateLimit::Unlimited)
    );
    let w1 = s.tokens(Some("w1")).await.unwrap();
    assert_eq!(
        ids(&w1, |t| &t.id),
        ["tok1", "tok2"],
        "revoked ones listed, oldest first"
    );
    assert_eq!(
        (w1[1].revoked_at, w1[1].rate_limit),
        (Some(at(9)), limited.rate_limit)
    );
    assert_eq!(s.tokens(None).await.unwrap().len(), 3);
    s.ping().await.unwrap();
    let mut tx = s.begin().await.unwrap();
    let other = ApiToken {
        id: "tok4".into(),
        ..t
    };
    assert!(
        tx.insert_token(&other, "hash-1").await.is_err(),
        "hashes are unique"
    );
}

pub async fn automations_and_versions<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    let a1 = automation("w1", "a1", 1);
    let mut a2 = automation("w1", "a2", 2);
    a2.environment = EnvironmentKind::Sandbox;
    a2.status = AutomationStatus::Draft;
    a2.shadows_id = Some("a1".into());
    let b1 = automation("w2", "b1", 3);
    for a in [&a1, &a2, &b1] {
        tx.insert_automation(a).await.unwrap();
        tx.insert_version(&version(a, 1, "case.created"))
            .await
            .unwrap();
    }
    let mut a1v2 = a1.clone();
    a1v2.current_version = 2;
    a1v2.status = AutomationStatus::Paused;
    a1v2.name = "renamed".into();
    a1v2.updated_at = at(50);
    tx.update_automation(&a1v2).await.unwrap();
    tx.insert_version(&version(&a1, 2, "custom.ping"))
        .await
        .unwrap();
    tx.savepoint().await.unwrap();
    assert!(
        tx.insert_version(&version(&a1, 2, "x")).await.is_err(),
        "(automation, version) is unique"
    );
    tx.rollback_to_savepoint().await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await.unwrap();
    let read = tx.automation("w1", "a1").await.unwrap().unwrap();
    assert_eq!((read.name.as_str(), read.current_version), ("renamed", 2));
    assert!(
        tx.automation("w2", "a1").await.unwrap().is_none(),
        "other workspace"
    );
    let all: Vec<String> = tx
        .automations()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(all, vec!["a1", "a2", "b1"], "every workspace, by id");
    let v = tx.version("w1", "a1", 2).await.unwrap().unwrap();
    assert_eq!(v.definition["trigger"]["event"], json!("custom.ping"));
    assert!(tx.version("w1", "a1", 3).await.unwrap().is_none());
    assert!(
        tx.version("w2", "a1", 2).await.unwrap().is_none(),
        "other workspace"
    );
    drop(tx);

    let a = s.automation("w1", "a1").await.unwrap().unwrap();
    assert_eq!(a.status, AutomationStatus::Paused);
    assert_eq!((a.created_at, a.updated_at), (at(1), at(50)));
    let a2r = s.automation("w1", "a2").await.unwrap().unwrap();
    assert_eq!(a2r.environment, EnvironmentKind::Sandbox);
    assert_eq!(a2r.status, AutomationStatus::Draft);
    assert_eq!(a2r.shadows_id.as_deref(), Some("a1"));
    assert!(s.automation("w2", "a1").await.unwrap().is_none());
    let ws1: Vec<String> = s
        .automations(Some("w1"))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ws1, vec!["a2", "a1"], "newest first");
    let every: Vec<String> = s
        .automations(None)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(every, vec!["b1", "a2", "a1"]);
    let versions: Vec<i64> = s
        .versions("w1", "a1")
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, vec![2, 1], "newest version first");
    assert!(
        s.versions("w2", "a1").await.unwrap().is_empty(),
        "other workspace"
    );
    let v1 = s.version("w1", "a1", 1).await.unwrap().unwrap();
    assert!(s.version("w2", "a1", 1).await.unwrap().is_none());
    assert_eq!(v1.definition, version(&a1, 1, "case.created").definition);
    assert_eq!(v1.created_at, at(1));
    let row = |v: AutomationVersion| (v.workspace_id, v.automation_id, v.version, v.definition);
    let current: Vec<_> = s
        .current_versions(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(row)
        .collect();
    let expected: Vec<_> = [
        (&a1, 2, "custom.ping"),
        (&a2, 1, "case.created"),
        (&b1, 1, "case.created"),
    ]
    .into_iter()
    .map(|(a, v, event)| row(version(a, v, event)))
    .collect();
    assert_eq!(
        current, expected,
        "the current version of each automation, every workspace"
    );
    let first = s.current_versions(None, 1).await.unwrap();
    let rest = s.current_versions(Some(("w1", "a1")), 10).await.unwrap();
    let paged: Vec<_> = first.into_iter().chain(rest).map(row).collect();
    assert_eq!(paged, expected, "a page after (workspace, id)");
    assert!(
        s.current_versions(Some(("w2", "b1")), 10)
            .await
            .unwrap()
            .is_empty(),
        "past the last"
    );
}

/// Definitions keep their key order (the author's order is what the API answers).
pub async fn definitions_keep_key_order<S: Store>(s: &S) {
    let a = automation("w1", "a1", 1);
    let mut v = version(&a, 1, "case.created");
    v.definition =
        serde_json::from_str(r#"{"zeta":1,"name":"n","alpha":{"y":2,"b":[3,{"d":1,"c":2}]}}"#)
            .unwrap();
    let mut tx = s.begin().await.unwrap();
    tx.insert_automation(&a).await.unwrap();
    tx.insert_version(&v).await.unwrap();
    tx.commit().await.unwrap();
    let read = s.version("w1", "a1", 1).await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_string(&read.definition).unwrap(),
        serde_json::to_string(&v.definition).unwrap()
    );
}

pub async fn schema_extensions<S: Store>(s: &S) {
    let mut tx = s.begin().await.unwrap();
    tx.insert_workspace(&workspace("w1", "one")).await.unwrap();
    tx.insert_workspace(&workspace("w2", "two")).await.unwrap();
    let mut seqs = Vec::new();
    for (ws, field) in [("w1", "a"), ("w2", "b"), ("w1", "c")] {
        let e = SchemaExtension {
            workspace_id: ws.into(),
            seq: 0,
            extension: json!({"objects": {"case": {"fields": {field: {"type": "number"}}}}}),
            created_at: at(7),
        };
        seqs.push(tx.insert_schema_extension(&e).await.unwrap());
    }
    tx.commit().await.unwrap();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seq increases: {seqs:?}"
    );
    let w1 = s.schema_extensions(Some("w1")).await.unwrap();
    assert_eq!(
        w1.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![seqs[0], seqs[2]]
    );
    assert_eq!(
        w1[1].extension["objects"]["case"]["fields"]["c"]["type"],
        json!("number")
    );
    assert_eq!(w1[0].created_at, at(7));
    let all = s.schema_extensions(None).await.unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs);
}
