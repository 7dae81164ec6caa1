-- Plugins (twin of sqlite/0003): uploaded versions, admin grants, and precompiled
-- artifacts keyed by sha256 + engine hash (written only by the host: trusted storage).

CREATE TABLE plugin_versions (
    workspace_id    TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C" NOT NULL,
    version         TEXT COLLATE "C" NOT NULL,
    manifest        JSONB NOT NULL,
    component       BYTEA NOT NULL,
    sha256          TEXT COLLATE "C" NOT NULL,
    uploaded_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, name, version)
);

CREATE TABLE plugin_grants (
    workspace_id    TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C" NOT NULL,
    capabilities    JSONB NOT NULL,
    granted_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE plugin_artifacts (
    component_sha256 TEXT COLLATE "C" NOT NULL,
    engine_hash      TEXT COLLATE "C" NOT NULL,
    artifact         BYTEA NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (component_sha256, engine_hash)
);
