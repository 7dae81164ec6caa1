-- Fewer b-trees written per run (issue 22). Every index a row is in is one more page the
-- commit writes to the WAL; a run of the seed automation touched 24 b-trees.
--
-- `outbox_due` held every item ever queued, so each outcome moved the item's entry from
-- the `pending` part to the `delivered` (or `dead`) part: a second page per outcome write.
-- Only pending items are ever looked up through it (the claim, the due check, the pending
-- counts), so now it holds only those, as on PostgreSQL: an outcome deletes the entry and
-- the index stays as small as the backlog.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'pending';

-- The retention sweep of the automation log found old entries by `created_at`; it now
-- reads the oldest entries in `seq` order (the table's own b-tree, whose order follows the
-- write time), so this index, written by every dispatched event, goes.
DROP INDEX automation_log_created;
