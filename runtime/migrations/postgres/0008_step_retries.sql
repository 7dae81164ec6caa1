-- Step retries (twin of sqlite/0008): how many times a step's action ran, the error of its
-- latest failed attempt, and the retry policy of the step that queued a delivery (NULL: the
-- outbox defaults). The index on a run's timers that sqlite/0008 adds exists here since
-- postgres/0001 (`timers_run`, a run's pending timers, which is what cancelling reads).
ALTER TABLE steps ADD COLUMN attempts BIGINT NOT NULL DEFAULT 1;
ALTER TABLE steps ADD COLUMN last_error TEXT;
ALTER TABLE outbox ADD COLUMN retry JSONB;
