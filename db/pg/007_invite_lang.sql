-- pg/007_invite_lang.sql - the PostgreSQL form of 007_invite_lang.sql.
ALTER TABLE invites ADD COLUMN lang text NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'fr'));
