-- Plugin log lines on their step (issue 16): a JSON array of
-- {"level", "message", "fields"}, bounded by the host when the call collects them.
ALTER TABLE steps ADD COLUMN logs TEXT NOT NULL DEFAULT '[]';
