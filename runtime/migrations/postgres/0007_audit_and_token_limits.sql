-- Twin of sqlite/0007 (issue 20): the audit log names who made each change (the token's
-- id next to its name in `actor`) and the kind of its target, pages newest first per
-- workspace and is append-only; tokens may carry their own rate limit.

ALTER TABLE audit_log ADD COLUMN actor_token_id TEXT COLLATE "C";
ALTER TABLE audit_log ADD COLUMN target_kind TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE audit_log SET target_kind = split_part(action, '.', 1) WHERE position('.' IN action) > 0;
UPDATE audit_log SET actor = 'system' WHERE actor = 'api';

DROP INDEX IF EXISTS audit_log_ws;
CREATE INDEX audit_log_page ON audit_log(workspace_id, id);
CREATE INDEX audit_log_target ON audit_log(workspace_id, target, id);
CREATE INDEX audit_log_kind ON audit_log(workspace_id, target_kind, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- NULL: the server's limit (`serve --rate-limit`); rate_per_second 0: unlimited.
ALTER TABLE api_tokens ADD COLUMN rate_per_second DOUBLE PRECISION;
ALTER TABLE api_tokens ADD COLUMN rate_burst DOUBLE PRECISION;
