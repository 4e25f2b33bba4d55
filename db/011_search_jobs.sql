-- 011_search_jobs.sql - jobs found by their update: the claim's fair order
-- counts, for each waiting job, its author's jobs (updates by author, then
-- their jobs through this index), and every update read for the API finds
-- its latest ladder job here, instead of reading every job of that kind.
-- (The rest of number 011 is PostgreSQL's full-text search,
-- pg/011_search_jobs.sql, which SQLite has had since 006_search.sql.)
CREATE INDEX jobs_update ON jobs(update_id, kind);
