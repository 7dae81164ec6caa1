-- Initial schema of the automations runtime (PostgreSQL); the twin of
-- migrations/sqlite/0001_init.sql, table for table and column for column.
-- Payloads are jsonb, instants timestamptz (kept to the millisecond, as SQLite keeps
-- them), flags boolean. Definitions are json (not jsonb): the author's key order is
-- what the API answers. Text is COLLATE "C": ids order and compare bytewise, as in
-- SQLite, whatever the database's locale. Every claim and list query has its index.

CREATE TABLE workspaces (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C" NOT NULL UNIQUE,
    sandbox_active  BOOLEAN NOT NULL DEFAULT FALSE,
    settings        JSONB NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C" NOT NULL,
    token_hash      TEXT COLLATE "C" NOT NULL UNIQUE,
    scopes          JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);

CREATE TABLE automations (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    name            TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    environment     TEXT COLLATE "C" NOT NULL,
    current_version BIGINT NOT NULL,
    shadows_id      TEXT COLLATE "C",
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX automations_ws ON automations(workspace_id, created_at DESC, id DESC);

CREATE TABLE automation_versions (
    workspace_id    TEXT COLLATE "C" NOT NULL,
    automation_id   TEXT COLLATE "C" NOT NULL,
    version         BIGINT NOT NULL,
    definition      JSON NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    environment     TEXT COLLATE "C" NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (automation_id, version)
);

CREATE TABLE records (
    workspace_id    TEXT COLLATE "C" NOT NULL,
    object          TEXT COLLATE "C" NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    fields          JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, object, id)
);
-- `GET /records/{object}`: newest first within an object.
CREATE INDEX records_list ON records(workspace_id, object, created_at DESC, id DESC);

CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    type            TEXT COLLATE "C" NOT NULL,
    object          TEXT COLLATE "C",
    record_id       TEXT COLLATE "C",
    payload         JSONB NOT NULL,
    causation       JSONB NOT NULL DEFAULT '[]',
    depth           BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, id)
);

CREATE TABLE runs (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    automation_id   TEXT COLLATE "C" NOT NULL,
    version         BIGINT NOT NULL,
    event_id        TEXT COLLATE "C" NOT NULL,
    object          TEXT COLLATE "C",
    record_id       TEXT COLLATE "C",
    status          TEXT COLLATE "C" NOT NULL,
    dry_run         BOOLEAN NOT NULL DEFAULT FALSE,
    pc              BIGINT NOT NULL DEFAULT 0,
    state           JSONB NOT NULL DEFAULT '{}',
    error           TEXT COLLATE "C",
    error_code      TEXT COLLATE "C",
    created_at      TIMESTAMPTZ NOT NULL,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    duration_ms     BIGINT,
    UNIQUE (workspace_id, automation_id, event_id)
);
-- The queue: only queued runs, oldest first (claimed with FOR UPDATE SKIP LOCKED).
CREATE INDEX runs_queued ON runs(created_at, id) WHERE status = 'queued';
CREATE INDEX runs_status ON runs(status);
CREATE INDEX runs_list ON runs(workspace_id, created_at DESC, id DESC);
CREATE INDEX runs_automation ON runs(workspace_id, automation_id, created_at DESC, id DESC);
CREATE INDEX runs_event ON runs(workspace_id, event_id);
CREATE INDEX runs_record ON runs(automation_id, object, record_id, created_at);

CREATE TABLE steps (
    workspace_id    TEXT COLLATE "C" NOT NULL,
    run_id          TEXT COLLATE "C" NOT NULL,
    step_id         TEXT COLLATE "C" NOT NULL,
    seq             BIGINT NOT NULL,
    type            TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    duration_ms     BIGINT,
    input           JSONB,
    output          JSONB,
    error           TEXT COLLATE "C",
    effects         JSONB NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, step_id)
);
-- Step latency buckets for /metrics.
CREATE INDEX steps_duration ON steps(duration_ms) WHERE duration_ms IS NOT NULL;

CREATE TABLE tasks (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    run_id          TEXT COLLATE "C" NOT NULL,
    automation_id   TEXT COLLATE "C" NOT NULL,
    step_id         TEXT COLLATE "C" NOT NULL,
    title           TEXT COLLATE "C" NOT NULL,
    assignee        TEXT COLLATE "C",
    queue           TEXT COLLATE "C",
    form            JSONB NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    output          JSONB,
    on_timeout      TEXT COLLATE "C",
    due_at          TIMESTAMPTZ,
    timeout_at      TIMESTAMPTZ,
    dry_run         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    completed_at    TIMESTAMPTZ
);
CREATE INDEX tasks_ws ON tasks(workspace_id, created_at DESC, id DESC);
CREATE INDEX tasks_ws_status ON tasks(workspace_id, status, created_at DESC, id DESC);
CREATE INDEX tasks_run ON tasks(run_id) WHERE status = 'open';

CREATE TABLE timers (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    run_id          TEXT COLLATE "C" NOT NULL,
    step_id         TEXT COLLATE "C" NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    fire_at         TIMESTAMPTZ NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
-- Due timers: only pending ones, earliest first.
CREATE INDEX timers_due ON timers(fire_at) WHERE status = 'pending';
CREATE INDEX timers_run ON timers(run_id) WHERE status = 'pending';

CREATE TABLE outbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT COLLATE "C",
    payload         JSONB NOT NULL,
    run_id          TEXT COLLATE "C",
    step_id         TEXT COLLATE "C",
    idempotency_key TEXT COLLATE "C" NOT NULL UNIQUE,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ
);
-- Claims: only pending items, the earliest due first.
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_ws ON outbox(workspace_id, created_at DESC, id DESC);
CREATE INDEX outbox_run ON outbox(workspace_id, run_id);

CREATE TABLE notifications (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    user_id         TEXT COLLATE "C" NOT NULL,
    message         TEXT COLLATE "C" NOT NULL,
    run_id          TEXT COLLATE "C",
    step_id         TEXT COLLATE "C",
    read_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE mailbox (
    id              TEXT COLLATE "C" PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    outbox_id       TEXT COLLATE "C" NOT NULL UNIQUE,
    recipients      JSONB NOT NULL,
    cc              JSONB NOT NULL DEFAULT '[]',
    subject         TEXT COLLATE "C" NOT NULL,
    body            TEXT COLLATE "C" NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX mailbox_ws ON mailbox(workspace_id, id);

CREATE TABLE audit_log (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    TEXT COLLATE "C" NOT NULL,
    actor           TEXT COLLATE "C" NOT NULL,
    action          TEXT COLLATE "C" NOT NULL,
    target          TEXT COLLATE "C" NOT NULL,
    details         JSONB NOT NULL DEFAULT '{}',
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_ws ON audit_log(workspace_id, id DESC);
