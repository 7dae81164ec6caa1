-- Step retries (issue 20, DESIGN §6): how many times a step's action ran and the error of
-- its latest failed attempt. Rows written before this count as one attempt.
ALTER TABLE steps ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
ALTER TABLE steps ADD COLUMN last_error TEXT;
-- The retry policy of the step that queued a delivery (JSON: attempts, backoff_ms,
-- max_backoff_ms, on); NULL: the outbox defaults.
ALTER TABLE outbox ADD COLUMN retry TEXT;
-- A run's timers are read and cancelled by run (cancel, task completion); retries add a
-- timer per failed attempt.
CREATE INDEX timers_run ON timers(workspace_id, run_id);
