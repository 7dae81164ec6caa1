-- Fewer indexes written per run (twin of sqlite/0012, issue 22). `outbox_due` has held
-- pending items only since 0001 here. The automation log's retention sweep now reads the
-- oldest entries in `seq` order (the primary key, whose order follows the write time), so
-- its `created_at` index, written by every dispatched event, goes.
DROP INDEX IF EXISTS automation_log_created;
