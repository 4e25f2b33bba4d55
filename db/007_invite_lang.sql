-- 007_invite_lang.sql - the language an invite is written in ('en' or
-- 'fr'): chosen by the inviter (by default their own), used again when the
-- invite is sent again, and the new account's language when the browser
-- that accepts it asks for none Hubcast writes. Links made before keep
-- English, as their mail was.

ALTER TABLE invites ADD COLUMN lang TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'fr'));
