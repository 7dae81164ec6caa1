-- Several nodes on one database (issue 19); PostgreSQL only (SQLite has one process).
-- The dispatch version: moved by every commit that changes automations or a sandbox
-- switch, so each node knows whether its in-memory dispatch index is current.
CREATE TABLE dispatch_version (
    id      SMALLINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO dispatch_version (id, version) VALUES (1, 0);

-- A run committed `running` (waiting for a plugin call outside any transaction) is
-- leased to the node making the call; the node renews the lease while it works, and
-- once it lapses (the node died) any node puts the run back in the queue, to resume
-- from its last committed step.
ALTER TABLE runs ADD COLUMN locked_by TEXT COLLATE "C";
ALTER TABLE runs ADD COLUMN lease_until TIMESTAMPTZ;
CREATE INDEX runs_leased ON runs(locked_by) WHERE status = 'running';
CREATE INDEX runs_lease_due ON runs(lease_until) WHERE status = 'running';
