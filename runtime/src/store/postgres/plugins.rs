//! PostgreSQL SQL of the plugin tables (`0003_plugins.sql`): versions, grants, artifacts.

use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};

use super::at;
use crate::error::Result;
use crate::store::plugins::{ArtifactKey, PluginGrantRow, PluginVersionRow};

fn version_row(r: &PgRow) -> Result<PluginVersionRow> {
    Ok(PluginVersionRow {
        workspace_id: r.try_get("workspace_id")?,
        name: r.try_get("name")?,
        version: r.try_get("version")?,
        manifest: r.try_get("manifest")?,
        component: r.try_get("component")?,
        sha256: r.try_get("sha256")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

fn grant_row(r: &PgRow) -> Result<PluginGrantRow> {
    Ok(PluginGrantRow {
        workspace_id: r.try_get("workspace_id")?,
        name: r.try_get("name")?,
        capabilities: serde_json::from_value(r.try_get("capabilities")?)?,
        granted_at: r.try_get("granted_at")?,
    })
}

pub(super) async fn versions(pool: &PgPool, ws: Option<&str>) -> Result<Vec<PluginVersionRow>> {
    let rows = sqlx::query(
        "SELECT * FROM plugin_versions WHERE ($1::text IS NULL OR workspace_id = $1) \
         ORDER BY workspace_id, name, uploaded_at",
    )
    .bind(ws)
    .fetch_all(pool)
    .await?;
    rows.iter().map(version_row).collect()
}

pub(super) async fn grants(pool: &PgPool, ws: Option<&str>) -> Result<Vec<PluginGrantRow>> {
    let rows = sqlx::query(
        "SELECT * FROM plugin_grants WHERE ($1::text IS NULL OR workspace_id = $1) ORDER BY workspace_id, name",
    )
    .bind(ws)
    .fetch_all(pool)
    .await?;
    rows.iter().map(grant_row).collect()
}

pub(super) async fn artifact(pool: &PgPool, key: ArtifactKey<'_>) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query(
        "SELECT artifact FROM plugin_artifacts WHERE component_sha256 = $1 AND engine_hash = $2",
    )
    .bind(key.component_sha256)
    .bind(key.engine_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.try_get("artifact")).transpose()?)
}

/// A version uploaded again replaces the stored one (same workspace, name and version).
pub(super) async fn upsert_version(conn: &mut PgConnection, v: &PluginVersionRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO plugin_versions (workspace_id, name, version, manifest, component, sha256, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (workspace_id, name, version) DO UPDATE SET
           manifest = excluded.manifest, component = excluded.component,
           sha256 = excluded.sha256, uploaded_at = excluded.uploaded_at",
    )
    .bind(&v.workspace_id)
    .bind(&v.name)
    .bind(&v.version)
    .bind(&v.manifest)
    .bind(&v.component)
    .bind(&v.sha256)
    .bind(at(v.uploaded_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn upsert_grant(conn: &mut PgConnection, g: &PluginGrantRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO plugin_grants (workspace_id, name, capabilities, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, name) DO UPDATE SET
           capabilities = excluded.capabilities, granted_at = excluded.granted_at",
    )
    .bind(&g.workspace_id)
    .bind(&g.name)
    .bind(Json(&g.capabilities))
    .bind(at(g.granted_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The same key always holds the same bytes (a deterministic compile), so a second save
/// keeps the first.
pub(super) async fn save_artifact(
    conn: &mut PgConnection,
    key: ArtifactKey<'_>,
    artifact: &[u8],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO plugin_artifacts (component_sha256, engine_hash, artifact, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (component_sha256, engine_hash) DO NOTHING",
    )
    .bind(key.component_sha256)
    .bind(key.engine_hash)
    .bind(artifact)
    .bind(at(chrono::Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}
