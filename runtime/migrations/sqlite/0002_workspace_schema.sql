-- Custom objects and fields of each workspace (POST /api/v1/schema...). A workspace's
-- schema is the built-in one plus its extensions applied in `seq` order; each extension is
-- the custom-schema JSON shape ({"objects": {"case": {"fields": {...}}}}). Rows are only
-- ever added: a field's type never changes once defined.

CREATE TABLE workspace_schema_extensions (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    extension       TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX workspace_schema_extensions_ws ON workspace_schema_extensions(workspace_id, seq);
