-- 008_trim.sql - trimming an update: the span of the original that its
-- ladder is made from, and media versions. Segments are served as
-- immutable, so a ladder made again (a new trim) is published under a new
-- version (DATA/media/<id>/v<N>/) and never over the files of the one
-- being watched; version 0 is the layout from before (DATA/media/<id>/),
-- so existing media need no move.

-- updates: the trim asked for (seconds of the original; NULL = untrimmed),
-- the version being served, and how long the original lasts (known once
-- a ladder has read it; NULL until then).
ALTER TABLE updates ADD COLUMN trim_start REAL;
ALTER TABLE updates ADD COLUMN trim_end REAL;
ALTER TABLE updates ADD COLUMN media_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE updates ADD COLUMN source_duration REAL;

-- jobs: the version a ladder job makes and the span it keeps. The newest
-- version of an update is the highest of its jobs'; a job that finishes
-- for an older one publishes nothing.
ALTER TABLE jobs ADD COLUMN media_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN trim_start REAL;
ALTER TABLE jobs ADD COLUMN trim_end REAL;
