-- Record history and backtests (twin of sqlite/0011).
--
-- record_history keeps every state a record had, so that a backtest can read a record as
-- it was at an event. Rows are written by triggers on `records`, in the write's own
-- transaction. `fields` NULL is a deletion. `changed_at` is the record's `updated_at` for
-- inserts and updates and the database clock (to the millisecond) for deletions. Two
-- writes of one record within the same millisecond keep the later state.
CREATE TABLE record_history (
    workspace_id    TEXT COLLATE "C" NOT NULL,
    object          TEXT COLLATE "C" NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    changed_at      TIMESTAMPTZ NOT NULL,
    fields          JSONB,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, object, id, changed_at)
);

CREATE FUNCTION records_history_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO record_history (workspace_id, object, id, changed_at, fields, created_at, updated_at)
        VALUES (OLD.workspace_id, OLD.object, OLD.id, date_trunc('milliseconds', clock_timestamp()),
                NULL, OLD.created_at, OLD.updated_at)
        ON CONFLICT (workspace_id, object, id, changed_at) DO UPDATE
            SET fields = NULL, created_at = excluded.created_at, updated_at = excluded.updated_at;
        RETURN OLD;
    END IF;
    INSERT INTO record_history (workspace_id, object, id, changed_at, fields, created_at, updated_at)
    VALUES (NEW.workspace_id, NEW.object, NEW.id, NEW.updated_at, NEW.fields, NEW.created_at, NEW.updated_at)
    ON CONFLICT (workspace_id, object, id, changed_at) DO UPDATE
        SET fields = excluded.fields, created_at = excluded.created_at, updated_at = excluded.updated_at;
    RETURN NEW;
END;
$$;

CREATE TRIGGER records_history AFTER INSERT OR UPDATE OR DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION records_history_keep();

-- History starts here: each existing record's current state, from its last write.
INSERT INTO record_history (workspace_id, object, id, changed_at, fields, created_at, updated_at)
SELECT workspace_id, object, id, updated_at, fields, created_at, updated_at FROM records;

-- Backtest jobs and their kept results (`request`: what was asked; `progress`: the counts
-- so far; `result`: the summary once completed). A job runs on the node that took it:
-- `locked_by`/`lease_until` are renewed with that node's run leases, so a node starting
-- up ends only the unfinished jobs of nodes that stopped renewing, not a live node's.
CREATE TABLE backtests (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    automation_id   TEXT COLLATE "C" NOT NULL,
    target_id       TEXT COLLATE "C" NOT NULL,
    version         BIGINT NOT NULL,
    request         JSONB NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    progress        JSONB NOT NULL DEFAULT '{}',
    result          JSONB,
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    locked_by       TEXT COLLATE "C",
    lease_until     TIMESTAMPTZ
);
CREATE INDEX backtests_automation ON backtests(workspace_id, automation_id, created_at);
CREATE INDEX backtests_status ON backtests(status);
