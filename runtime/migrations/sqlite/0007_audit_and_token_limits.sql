-- Issue 20: the audit log names who made each change (the token's id next to its name in
-- `actor`) and the kind of its target, pages newest first per workspace and is append-only;
-- tokens may carry their own rate limit.

ALTER TABLE audit_log ADD COLUMN actor_token_id TEXT;
ALTER TABLE audit_log ADD COLUMN target_kind TEXT NOT NULL DEFAULT '';
UPDATE audit_log SET target_kind = substr(action, 1, instr(action, '.') - 1)
 WHERE instr(action, '.') > 0;
-- Entries written before this migration were made by the API or the system.
UPDATE audit_log SET actor = 'system' WHERE actor = 'api';

CREATE INDEX audit_log_page ON audit_log(workspace_id, id);
CREATE INDEX audit_log_target ON audit_log(workspace_id, target, id);
CREATE INDEX audit_log_kind ON audit_log(workspace_id, target_kind, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- NULL: the server's limit (`serve --rate-limit`); rate_per_second 0: unlimited.
ALTER TABLE api_tokens ADD COLUMN rate_per_second REAL;
ALTER TABLE api_tokens ADD COLUMN rate_burst REAL;
