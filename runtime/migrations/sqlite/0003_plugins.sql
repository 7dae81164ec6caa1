-- Plugins (DESIGN §8): uploaded versions side by side, admin grants, and the precompiled
-- artifacts of components. Versions and grants are per workspace; artifacts are derived
-- from component bytes alone (keyed by sha256 + engine compatibility hash) and are written
-- only by the host after compiling, never from user input (trusted storage).

CREATE TABLE plugin_versions (
    workspace_id    TEXT NOT NULL,
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    manifest        TEXT NOT NULL,
    component       BLOB NOT NULL,
    sha256          TEXT NOT NULL,
    uploaded_at     TEXT NOT NULL,
    PRIMARY KEY (workspace_id, name, version)
);

CREATE TABLE plugin_grants (
    workspace_id    TEXT NOT NULL,
    name            TEXT NOT NULL,
    capabilities    TEXT NOT NULL,
    granted_at      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE plugin_artifacts (
    component_sha256 TEXT NOT NULL,
    engine_hash      TEXT NOT NULL,
    artifact         BLOB NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (component_sha256, engine_hash)
);
