-- pg/013_first_slow.sql - the PostgreSQL form of 013_first_slow.sql.
ALTER TABLE jobs ADD COLUMN slow integer NOT NULL DEFAULT 0;
