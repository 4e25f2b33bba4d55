-- pg/008_trim.sql - the PostgreSQL form of 008_trim.sql.
ALTER TABLE updates ADD COLUMN trim_start double precision;
ALTER TABLE updates ADD COLUMN trim_end double precision;
ALTER TABLE updates ADD COLUMN media_version integer NOT NULL DEFAULT 0;
ALTER TABLE updates ADD COLUMN source_duration double precision;

ALTER TABLE jobs ADD COLUMN media_version integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN trim_start double precision;
ALTER TABLE jobs ADD COLUMN trim_end double precision;
