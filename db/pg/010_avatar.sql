-- pg/010_avatar.sql - the PostgreSQL form of 010_avatar.sql.
ALTER TABLE users ADD COLUMN avatar text;
