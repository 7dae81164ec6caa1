-- Custom objects and fields of each workspace (twin of sqlite/0002): extensions applied
-- in `seq` order; rows are only ever added. json keeps the author's key order.

CREATE TABLE workspace_schema_extensions (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    extension       JSON NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX workspace_schema_extensions_ws ON workspace_schema_extensions(workspace_id, seq);
