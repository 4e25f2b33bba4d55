-- 010_avatar.sql - an uploaded profile picture: the name of its file in
-- DATA/avatars ("<user>-<random>.jpg"; a new picture gets a new name, so
-- its URL changes), NULL when the person has none and the initials show.

ALTER TABLE users ADD COLUMN avatar TEXT;
