-- pg/003_update_ids.sql - the PostgreSQL form of 003_update_ids.sql. Ids
-- from an identity column are never given out twice already (SQLite needed
-- AUTOINCREMENT and a rebuild); what remains is the nonce, 128 random bits
-- in hex (pgcrypto's gen_random_bytes, a trusted extension).
CREATE EXTENSION IF NOT EXISTS pgcrypto;
ALTER TABLE updates ADD COLUMN nonce text NOT NULL DEFAULT encode(gen_random_bytes(16), 'hex');
