-- Fewer b-trees written per run (issue 22). `runs_status` held every run ever made, so
-- every commit of a finished run wrote a page of it, although only the runs that are not
-- completed are ever looked up by status (the queue's claim, the wake check, the restart's
-- requeue, the counts of `/metrics`). It now holds those only: a run that ends completed
-- leaves it (or never enters it, as a run started with its write), and the completed
-- count is the table's count less the others. Queries that read it repeat its condition,
-- `status <> 'completed'`, which SQLite needs to see to use a partial index. The id joins
-- the key, so the queue's order (`created_at, id`) is the index's own.
DROP INDEX runs_status;
CREATE INDEX runs_status ON runs(status, created_at, id) WHERE status <> 'completed';
