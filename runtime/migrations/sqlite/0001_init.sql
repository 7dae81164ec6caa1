-- Initial schema of the automations runtime (SQLite).
-- Every row carries workspace_id; ids are opaque text.

CREATE TABLE workspaces (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    name            TEXT NOT NULL UNIQUE,
    sandbox_active  INTEGER NOT NULL DEFAULT 0,
    settings        TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    scopes          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);

CREATE TABLE automations (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,
    environment     TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    shadows_id      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX automations_ws ON automations(workspace_id, status);

CREATE TABLE automation_versions (
    workspace_id    TEXT NOT NULL,
    automation_id   TEXT NOT NULL REFERENCES automations(id),
    version         INTEGER NOT NULL,
    definition      TEXT NOT NULL,
    status          TEXT NOT NULL,
    environment     TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (automation_id, version)
);

CREATE TABLE records (
    workspace_id    TEXT NOT NULL,
    object          TEXT NOT NULL,
    id              TEXT NOT NULL,
    fields          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, object, id)
);

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    TEXT NOT NULL,
    id              TEXT NOT NULL,
    type            TEXT NOT NULL,
    object          TEXT,
    record_id       TEXT,
    payload         TEXT NOT NULL,
    causation       TEXT NOT NULL DEFAULT '[]',
    depth           INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    UNIQUE (workspace_id, id)
);

CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    automation_id   TEXT NOT NULL,
    version         INTEGER NOT NULL,
    event_id        TEXT NOT NULL,
    object          TEXT,
    record_id       TEXT,
    status          TEXT NOT NULL,
    dry_run         INTEGER NOT NULL DEFAULT 0,
    pc              INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT '{}',
    error           TEXT,
    error_code      TEXT,
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT,
    duration_ms     INTEGER,
    UNIQUE (workspace_id, automation_id, event_id)
);
CREATE INDEX runs_status ON runs(status, created_at);
CREATE INDEX runs_automation ON runs(workspace_id, automation_id, created_at);
CREATE INDEX runs_record ON runs(automation_id, object, record_id, created_at);

CREATE TABLE steps (
    workspace_id    TEXT NOT NULL,
    run_id          TEXT NOT NULL REFERENCES runs(id),
    step_id         TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT,
    duration_ms     INTEGER,
    input           TEXT,
    output          TEXT,
    error           TEXT,
    effects         TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    automation_id   TEXT NOT NULL,
    step_id         TEXT NOT NULL,
    title           TEXT NOT NULL,
    assignee        TEXT,
    queue           TEXT,
    form            TEXT NOT NULL,
    status          TEXT NOT NULL,
    output          TEXT,
    on_timeout      TEXT,
    due_at          TEXT,
    timeout_at      TEXT,
    dry_run         INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    completed_at    TEXT
);
CREATE INDEX tasks_ws ON tasks(workspace_id, status, created_at);
CREATE INDEX tasks_run ON tasks(run_id);

CREATE TABLE timers (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    step_id         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    fire_at         TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX timers_due ON timers(status, fire_at);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    payload         TEXT NOT NULL,
    run_id          TEXT,
    step_id         TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_ws ON outbox(workspace_id, kind, created_at);

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    message         TEXT NOT NULL,
    run_id          TEXT,
    step_id         TEXT,
    read_at         TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE mailbox (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL,
    outbox_id       TEXT NOT NULL UNIQUE,
    recipients      TEXT NOT NULL,
    cc              TEXT NOT NULL DEFAULT '[]',
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);

CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id    TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    target          TEXT NOT NULL,
    details         TEXT NOT NULL DEFAULT '{}',
    created_at      TEXT NOT NULL
);
