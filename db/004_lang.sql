-- 004_lang.sql - each person's language, for the messages the server
-- writes to them (mail, errors): 'en' or 'fr'. Everyone who had an account
-- before keeps it and reads English until they choose otherwise.

ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'fr'));
