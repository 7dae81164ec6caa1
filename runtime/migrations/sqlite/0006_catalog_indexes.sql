-- The custom event types of a workspace (`GET /schema`'s `custom_events`) are read by a
-- loose index scan over this partial index; only custom events pay for it on insert.
CREATE INDEX events_custom_types ON events(workspace_id, type)
    WHERE type >= 'custom.' AND type < 'custom/';

-- A user's notifications, unread first, then newest first (`GET /notifications`).
CREATE INDEX notifications_user ON notifications(workspace_id, user_id, read_at, created_at, id);
