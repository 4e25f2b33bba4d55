-- 007_first.sql - first-playable renditions: a job is either the quick
-- 'first' pass (one rendition as the bytes arrive, in media/<id>/first/)
-- or the 'ladder'; an update knows when its first rendition became
-- playable, when it was published (seen by others), and the live upload
-- that feeds it while its author is still recording.

ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'ladder'
    CHECK (kind IN ('first', 'ladder'));
CREATE INDEX jobs_kind ON jobs(kind, state);

-- When the first rendition's playlists first listed a segment; NULL until
-- then (and again when a retried first pass starts over).
ALTER TABLE updates ADD COLUMN first_ready_at INTEGER;
-- Video segments the first rendition lists.
ALTER TABLE updates ADD COLUMN first_segments INTEGER NOT NULL DEFAULT 0;
-- When others may see it (its upload ended); NULL while its author records.
ALTER TABLE updates ADD COLUMN published_at INTEGER;
-- The deferred-length upload feeding an update created while it arrives.
ALTER TABLE updates ADD COLUMN upload_id TEXT;

UPDATE updates SET published_at = created_at WHERE status <> 'uploading';
