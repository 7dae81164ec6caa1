-- Twin of sqlite/0006: the custom event types of a workspace (a loose index scan over
-- this partial index) and a user's notifications, unread first, then newest first.
CREATE INDEX events_custom_types ON events(workspace_id, type)
    WHERE type >= 'custom.' AND type < 'custom/';

CREATE INDEX notifications_user ON notifications(workspace_id, user_id, (read_at IS NOT NULL), created_at DESC, id DESC);
CREATE INDEX notifications_ws ON notifications(workspace_id, (read_at IS NOT NULL), created_at DESC, id DESC);
