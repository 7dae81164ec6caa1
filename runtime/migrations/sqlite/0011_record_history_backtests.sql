-- Record history and backtests (issue 23).
--
-- record_history keeps every state a record had, so that a backtest can read a record as
-- it was at an event. Rows are written by triggers on `records`, so every write path
-- (API, automations, imports) keeps it, in the write's own transaction, with no extra
-- statement from the engine. `fields` NULL is a deletion. `changed_at` is the record's
-- `updated_at` for inserts and updates (the write's time, the time its events carry) and
-- the database clock for deletions. Old rows are pruned by the retention setting
-- (`serve --record-history-days`), keeping each record's last state before the cutoff.
CREATE TABLE record_history (
    workspace_id    TEXT NOT NULL,
    object          TEXT NOT NULL,
    id              TEXT NOT NULL,
    changed_at      TEXT NOT NULL,
    fields          TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, object, id, changed_at)
) WITHOUT ROWID;
-- One b-tree insert per write (no rowid table beside an index). Two writes of one record
-- within the same millisecond keep the later state: a read as of that millisecond could
-- not tell them apart anyway.

CREATE TRIGGER records_history_insert AFTER INSERT ON records
BEGIN
    INSERT OR REPLACE INTO record_history (workspace_id, object, id, changed_at, fields, created_at, updated_at)
    VALUES (NEW.workspace_id, NEW.object, NEW.id, NEW.updated_at, NEW.fields, NEW.created_at, NEW.updated_at);
END;

CREATE TRIGGER records_history_update AFTER UPDATE ON records
BEGIN
    INSERT OR REPLACE INTO record_history (workspace_id, object, id, changed_at, fields, created_at, updated_at)
    VALUES (NEW.workspace_id, NEW.object, NEW.id, NEW.updated_at, NEW.fields, NEW.created_at, NEW.updated_at);
END;

CREATE TRIGGER records_history_delete AFTER DELETE ON records
BEGIN
    INSERT OR REPLACE INTO record_history (workspace_id, object, id, changed_at, fields, created_at, updated_at)
    VALUES (OLD.workspace_id, OLD.object, OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), NULL,
            OLD.created_at, OLD.updated_at);
END;

-- History starts here: each existing record's current state, from its last write.
INSERT INTO record_history (workspace_id, object, id, changed_at, fields, created_at, updated_at)
SELECT workspace_id, object, id, updated_at, fields, created_at, updated_at FROM records;

-- No index is added to `events`: every write would pay for it. A backtest finds its range
-- by the events' sequence (binary search on `seq`, whose order follows `created_at`) and
-- reads that stretch in order.

-- Backtest jobs and their kept results. `request` is the JSON of what was asked (range,
-- limit, version), `progress` the counts so far, `result` the summary once completed.
CREATE TABLE backtests (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    automation_id   TEXT NOT NULL,
    target_id       TEXT NOT NULL,
    version         INTEGER NOT NULL,
    request         TEXT NOT NULL,
    status          TEXT NOT NULL,
    progress        TEXT NOT NULL DEFAULT '{}',
    result          TEXT,
    error           TEXT,
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT
);
CREATE INDEX backtests_automation ON backtests(workspace_id, automation_id, created_at);
CREATE INDEX backtests_status ON backtests(status);
