-- The automation log per record (issue 23): for each event on a record, which automations
-- were considered and why each ran or did not. Written in the transaction that dispatches
-- the event; capped per record at that write and swept by age (serve
-- --automation-log-per-record, --automation-log-retention).
CREATE TABLE automation_log (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    TEXT NOT NULL,
    object          TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    -- JSON: the considered automations (outcome, explanation, reason) and the count left out.
    entries         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (workspace_id, event_id)
);
-- Reading one record's log newest first, and keeping its newest N.
CREATE INDEX automation_log_record ON automation_log(workspace_id, object, record_id, seq);
-- The retention sweep deletes by age.
CREATE INDEX automation_log_created ON automation_log(created_at);
