-- Plugin log lines on their step (twin of sqlite/0005).
ALTER TABLE steps ADD COLUMN logs JSONB NOT NULL DEFAULT '[]';
