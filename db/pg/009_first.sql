-- pg/009_first.sql - the PostgreSQL form of 009_first.sql.
ALTER TABLE jobs ADD COLUMN kind text NOT NULL DEFAULT 'ladder'
    CHECK (kind IN ('first', 'ladder'));
CREATE INDEX jobs_kind ON jobs(kind, state);

ALTER TABLE updates ADD COLUMN first_ready_at bigint;
ALTER TABLE updates ADD COLUMN first_segments integer NOT NULL DEFAULT 0;
ALTER TABLE updates ADD COLUMN published_at bigint;
ALTER TABLE updates ADD COLUMN upload_id text;

UPDATE updates SET published_at = created_at WHERE status <> 'uploading';
