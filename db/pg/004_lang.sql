-- pg/004_lang.sql - the PostgreSQL form of 004_lang.sql.
ALTER TABLE users ADD COLUMN lang text NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'fr'));
