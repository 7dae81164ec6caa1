//! SQLite SQL of the plugin tables (`0003_plugins.sql`): versions, grants, artifacts.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::error::Result;
use crate::model::{parse_ts, ts};
use crate::store::plugins::{ArtifactKey, PluginGrantRow, PluginVersionRow};

fn version_row(r: &SqliteRow) -> Result<PluginVersionRow> {
    Ok(PluginVersionRow {
        workspace_id: r.try_get("workspace_id")?,
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        manifest: serde_json::from_str(&r.try_get::<String, _>("manifest")?)?,
        component: r.try_get("component")?,
        sha256: r.try_get("sha256")?,
        uploaded_at: parse_ts(&r.try_get::<String, _>("uploaded_at")?),
    })
}

fn grant_row(r: &SqliteRow) -> Result<PluginGrantRow> {
    Ok(PluginGrantRow {
        workspace_id: r.try_get("workspace_id")?,
        name: r.try_get("name")?,
        capabilities: serde_json::from_str(&r.try_get::<String, _>("capabilities")?)?,
        granted_at: parse_ts(&r.try_get::<String, _>("granted_at")?),
    })
}

pub(super) async fn versions(pool: &SqlitePool, ws: Option<&str>) -> Result<Vec<PluginVersionRow>> {
    let rows = sqlx::query(
        "SELECT * FROM plugin_versions WHERE (?1 IS NULL OR workspace_id = ?1) ORDER BY workspace_id, name, uploaded_at",
    )
    .bind(ws)
    .fetch_all(pool)
    .await?;
    rows.iter().map(version_row).collect()
}

pub(super) async fn grants(pool: &SqlitePool, ws: Option<&str>) -> Result<Vec<PluginGrantRow>> {
    let rows = sqlx::query(
        "SELECT * FROM plugin_grants WHERE (?1 IS NULL OR workspace_id = ?1) ORDER BY workspace_id, name",
    )
    .bind(ws)
    .fetch_all(pool)
    .await?;
    rows.iter().map(grant_row).collect()
}

pub(super) async fn artifact(pool: &SqlitePool, key: ArtifactKey<'_>) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query(
        "SELECT artifact FROM plugin_artifacts WHERE component_sha256 = ? AND engine_hash = ?",
    )
    .bind(key.component_sha256)
    .bind(key.engine_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.try_get("artifact")).transpose()?)
}

/// A version uploaded again replaces the stored one (same workspace, name and version).
pub(super) async fn upsert_version(
    conn: &mut SqliteConnection,
    v: &PluginVersionRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO plugin_versions (workspace_id, name, version, manifest, component, sha256, uploaded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workspace_id, name, version) DO UPDATE SET
           manifest = excluded.manifest, component = excluded.component,
           sha256 = excluded.sha256, uploaded_at = excluded.uploaded_at",
    )
    .bind(&v.workspace_id)
    .bind(&v.name)
    .bind(&v.version)
    .bind(v.manifest.to_string())
    .bind(&v.component)
    .bind(&v.sha256)
    .bind(ts(v.uploaded_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn upsert_grant(conn: &mut SqliteConnection, g: &PluginGrantRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO plugin_grants (workspace_id, name, capabilities, granted_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (workspace_id, name) DO UPDATE SET
           capabilities = excluded.capabilities, granted_at = excluded.granted_at",
    )
    .bind(&g.workspace_id)
    .bind(&g.name)
    .bind(serde_json::to_string(&g.capabilities)?)
    .bind(ts(g.granted_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The same key always holds the same bytes (a deterministic compile), so a second save
/// keeps the first.
pub(super) async fn save_artifact(
    conn: &mut SqliteConnection,
    key: ArtifactKey<'_>,
    artifact: &[u8],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO plugin_artifacts (component_sha256, engine_hash, artifact, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (component_sha256, engine_hash) DO NOTHING",
    )
    .bind(key.component_sha256)
    .bind(key.engine_hash)
    .bind(artifact)
    .bind(ts(chrono::Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}
