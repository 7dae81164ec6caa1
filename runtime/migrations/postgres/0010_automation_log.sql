-- The automation log per record (twin of sqlite/0010): for each event on a record, which
-- automations were considered and why each ran or did not. Written in the transaction that
-- dispatches the event; capped per record at that write and swept by age.
CREATE TABLE automation_log (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    object          TEXT COLLATE "C" NOT NULL,
    record_id       TEXT COLLATE "C" NOT NULL,
    event_id        TEXT COLLATE "C" NOT NULL,
    event_type      TEXT COLLATE "C" NOT NULL,
    -- The considered automations (outcome, explanation, reason) and the count left out.
    entries         JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, event_id)
);
-- Reading one record's log newest first, and keeping its newest N.
CREATE INDEX automation_log_record ON automation_log(workspace_id, object, record_id, seq);
-- The retention sweep deletes by age.
CREATE INDEX automation_log_created ON automation_log(created_at);
