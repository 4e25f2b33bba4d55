-- pg/002_mail.sql - the PostgreSQL form of 002_mail.sql.
ALTER TABLE outbox ADD COLUMN claimed_at bigint;
ALTER TABLE outbox ADD COLUMN to_name text NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN unsubscribe bigint NOT NULL DEFAULT 0;
CREATE INDEX outbox_user_kind ON outbox(to_user, kind, created_at);

INSERT INTO settings(key, value) VALUES ('mail_retry_base', '30') ON CONFLICT DO NOTHING;
