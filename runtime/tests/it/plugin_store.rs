//! The plugin tables through the Store traits: versions side by side (the same version
//! again replaces it), grants replaced, artifacts keyed by sha256 + engine hash, rows
//! filtered by workspace, all kept across a reopen of the file.

use automations_runtime::store::{
    ArtifactKey, PluginGrantRow, PluginVersionRow, SqliteConfig, SqliteStore, Store, StoreTx,
};
use chrono::Utc;
use serde_json::json;

fn version(ws: &str, name: &str, version: &str, bytes: &[u8]) -> PluginVersionRow {
    PluginVersionRow {
        workspace_id: ws.into(),
        name: name.into(),
        version: version.into(),
        manifest: json!({"name": name, "version": version}),
        component: bytes.to_vec(),
        sha256: format!("sha-{}", bytes.len()),
        uploaded_at: Utc::now(),
    }
}

#[tokio::test]
async fn plugin_rows_round_trip_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let config = SqliteConfig::file(dir.path().join("p.db"));
    let store = SqliteStore::open(&config).await.unwrap();
    let key = ArtifactKey {
        component_sha256: "sha-3",
        engine_hash: "e1",
    };
    let mut tx = store.begin().await.unwrap();
    tx.upsert_plugin_version(&version("w1", "p", "0.1.0", b"one"))
        .await
        .unwrap();
    tx.upsert_plugin_version(&version("w1", "p", "0.2.0", b"two"))
        .await
        .unwrap();
    // The same version again replaces the stored one.
    tx.upsert_plugin_version(&version("w1", "p", "0.1.0", b"again"))
        .await
        .unwrap();
    tx.upsert_plugin_version(&version("w2", "q", "1.0.0", b"q"))
        .await
        .unwrap();
    for caps in [
        vec!["email:send".to_string()],
        vec!["records:read:lead".into()],
    ] {
        let grant = PluginGrantRow {
            workspace_id: "w1".into(),
            name: "p".into(),
            capabilities: caps,
            granted_at: Utc::now(),
        };
        tx.upsert_plugin_grant(&grant).await.unwrap();
    }
    tx.save_plugin_artifact(key, b"compiled").await.unwrap();
    tx.save_plugin_artifact(key, b"ignored").await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    let store = SqliteStore::open(&config).await.unwrap();
    let w1 = store.plugin_versions(Some("w1")).await.unwrap();
    let mut versions: Vec<(&str, &[u8])> = w1
        .iter()
        .map(|v| (v.version.as_str(), v.component.as_slice()))
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        vec![("0.1.0", &b"again"[..]), ("0.2.0", &b"two"[..])]
    );
    assert_eq!(w1[0].manifest["name"], "p");
    assert_eq!(store.plugin_versions(None).await.unwrap().len(), 3);
    assert!(store.plugin_versions(Some("w3")).await.unwrap().is_empty());
    let grants = store.plugin_grants(Some("w1")).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].capabilities, vec!["records:read:lead"]);
    assert!(store.plugin_grants(Some("w2")).await.unwrap().is_empty());
    assert_eq!(
        store.plugin_artifact(key).await.unwrap().as_deref(),
        Some(&b"compiled"[..])
    );
    let other_engine = ArtifactKey {
        engine_hash: "e2",
        ..key
    };
    assert_eq!(store.plugin_artifact(other_engine).await.unwrap(), None);
    store.close().await;
}
