-- 002_mail.sql - what the mail outbox needs beyond 001: a claim taken by
-- the delivery thread before it talks to the SMTP server (so a restart
-- knows which messages were in flight), the recipient's display name, and
-- whether the message carries List-Unsubscribe headers (notifications do,
-- invites and password resets do not). Also the mail settings an
-- administrator can change on the admin page.

ALTER TABLE outbox ADD COLUMN claimed_at INTEGER;          -- set while being sent
ALTER TABLE outbox ADD COLUMN to_name TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN unsubscribe INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_user_kind ON outbox(to_user, kind, created_at);

INSERT OR IGNORE INTO settings(key, value) VALUES
    ('mail_retry_base', '30');    -- seconds before the first retry; doubles, capped at 1 h
