-- pg/011_search_jobs.sql - full-text search on PostgreSQL, what 006_search.sql
-- gives SQLite with FTS5: update titles, descriptions and check-in answers,
-- and comments, indexed as tsvectors, accent- and case-insensitive
-- ("equipe" finds "équipe"), searched by db/db_search.c.
--
-- The text search configuration hubcast_search is PostgreSQL's `simple`
-- (no stemming, no stop words, as SQLite's unicode61 tokenizer) with the
-- `unaccent` dictionary before it on words that may carry accents. The
-- unaccent extension is trusted (PostgreSQL 13 and later): a database
-- owner may create it; Debian's postgresql-15 ships it. Hyphenated words
-- are indexed as their parts only ("foo-bar": foo, bar), as unicode61
-- splits them, so that the start of a part finds them while typing.
--
-- Keeping it in step, as on SQLite: triggers on updates, comments and
-- update_answers record what changed in search_stale, in the transaction
-- of the change; db_search_refresh re-indexes those rows from the live
-- tables before a search reads the index. Existing rows are indexed here.

CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TEXT SEARCH CONFIGURATION hubcast_search (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION hubcast_search
    ALTER MAPPING FOR word, hword_part, numword, hword_numpart WITH unaccent, simple;
ALTER TEXT SEARCH CONFIGURATION hubcast_search
    DROP MAPPING FOR asciihword, hword, numhword;

-- One row per update (id = updates.id): the texts as indexed (snippets are
-- cut from them) and their tsvector, title words weighted A, the rest B.
CREATE TABLE search_updates (
    id          bigint PRIMARY KEY,
    title       text NOT NULL,
    description text NOT NULL,
    answers     text NOT NULL,
    doc         tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('hubcast_search', title), 'A') ||
                    setweight(to_tsvector('hubcast_search', description), 'B') ||
                    setweight(to_tsvector('hubcast_search', answers), 'B')) STORED
);
CREATE INDEX search_updates_doc ON search_updates USING gin (doc);

-- One row per comment (id = comments.id).
CREATE TABLE search_comments (
    id   bigint PRIMARY KEY,
    body text NOT NULL,
    doc  tsvector GENERATED ALWAYS AS (setweight(to_tsvector('hubcast_search', body), 'B')) STORED
);
CREATE INDEX search_comments_doc ON search_comments USING gin (doc);

-- What changed since the index last caught up: ('update', updates.id) or
-- ('comment', comments.id). Emptied by db_search_refresh.
CREATE TABLE search_stale (
    kind text NOT NULL CHECK (kind IN ('update', 'comment')),
    id   bigint NOT NULL,
    PRIMARY KEY (kind, id)
);

INSERT INTO search_updates(id, title, description, answers)
    SELECT u.id, u.title, u.description,
           COALESCE((SELECT string_agg(a.body, E'\n' ORDER BY a.position) FROM update_answers a
                     WHERE a.update_id = u.id), '')
    FROM updates u;
INSERT INTO search_comments(id, body) SELECT id, body FROM comments;

-- The triggers' function: TG_ARGV[0] is the kind to mark, TG_ARGV[1] the
-- column of the changed row that holds its id ('id' or 'update_id').
CREATE FUNCTION search_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
    ELSE
        r := NEW;
    END IF;
    IF TG_ARGV[1] = 'update_id' THEN
        INSERT INTO search_stale(kind, id) VALUES (TG_ARGV[0], r.update_id) ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO search_stale(kind, id) VALUES (TG_ARGV[0], r.id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER search_update_insert_delete AFTER INSERT OR DELETE ON updates
    FOR EACH ROW EXECUTE FUNCTION search_mark_stale('update', 'id');
CREATE TRIGGER search_update_edit AFTER UPDATE OF title, description ON updates
    FOR EACH ROW EXECUTE FUNCTION search_mark_stale('update', 'id');
CREATE TRIGGER search_comment_insert_delete AFTER INSERT OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION search_mark_stale('comment', 'id');
CREATE TRIGGER search_comment_edit AFTER UPDATE OF body ON comments
    FOR EACH ROW EXECUTE FUNCTION search_mark_stale('comment', 'id');
-- Check-in answers are searched with their update.
CREATE TRIGGER search_answer_change AFTER INSERT OR UPDATE OR DELETE ON update_answers
    FOR EACH ROW EXECUTE FUNCTION search_mark_stale('update', 'update_id');

-- Jobs found by their update, as 011_search_jobs.sql on SQLite: the
-- claim's fair order and the latest ladder job of each update read.
CREATE INDEX jobs_update ON jobs(update_id, kind);
