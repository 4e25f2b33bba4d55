-- pg/012_upload_store.sql - the PostgreSQL form of 012_upload_store.sql.
ALTER TABLE uploads ADD COLUMN s3_upload_id text;
ALTER TABLE uploads ADD COLUMN s3_parts integer NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN s3_etags text NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN s3_next_part integer NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN s3_tail bigint NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN s3_tail_name text NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN lease_token text;
ALTER TABLE uploads ADD COLUMN lease_until bigint NOT NULL DEFAULT 0;
CREATE INDEX uploads_s3 ON uploads(s3_upload_id);
