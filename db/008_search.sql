-- 008_search.sql - full-text search over what people wrote: update titles
-- and descriptions (and check-in answers, see below) and comments, with
-- SQLite FTS5, accent- and case-insensitive (unicode61 remove_diacritics 2:
-- "equipe" finds "équipe"). Existing updates and comments are indexed here.
--
-- Keeping it in step: the catalog runs with trusted_schema=OFF, under which
-- a trigger may not write to an FTS5 table. So triggers on updates and
-- comments record what changed in search_stale (an ordinary table), in the
-- transaction of the change, and db_search re-indexes those rows from the
-- live tables, in one transaction, before it reads the index. Every insert,
-- edit and deletion (cascaded deletions included) is caught by the
-- triggers; no code outside db/db_search.c touches the index.
--
-- Also: users.lang, the language the server writes to a person in.

-- users.lang, identical to 006_lang.sql of the onboarding work: 'en' or
-- 'fr'. When 006 is merged, this statement goes (006 adds the column).
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'en' CHECK (lang IN ('en', 'fr'));

-- One row per update, rowid = updates.id.
--
-- `answers` is the hook for the check-in answers (migration 007): the text
-- of an update's answers, joined by newlines. It is '' until then. To fill
-- it: (1) in db/db_search.c, SEARCH_ANSWERS_SQL becomes the expression
-- that gives an update's answers (u.id is the update); (2) triggers on the
-- answers table mark the update stale on insert, update and delete:
--     INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', NEW.update_id);
-- (3) the migration that adds them marks every update with answers stale
-- once. Searches already look in every column; nothing else changes.
-- With update_answers(update_id, position, prompt, body) of 005_ritual.sql,
-- (2) and (3) are, appended to this file:
--     CREATE TRIGGER search_answer_insert AFTER INSERT ON update_answers BEGIN
--         INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', NEW.update_id);
--     END;
--     CREATE TRIGGER search_answer_edit AFTER UPDATE ON update_answers BEGIN
--         INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', NEW.update_id);
--     END;
--     CREATE TRIGGER search_answer_delete AFTER DELETE ON update_answers BEGIN
--         INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', OLD.update_id);
--     END;
--     INSERT OR IGNORE INTO search_stale(kind, id) SELECT DISTINCT 'update', update_id FROM update_answers;
CREATE VIRTUAL TABLE search_updates USING fts5(
    title, description, answers,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- One row per comment, rowid = comments.id.
CREATE VIRTUAL TABLE search_comments USING fts5(
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- What changed since the index last caught up: ('update', updates.id) or
-- ('comment', comments.id). Emptied by db_search_refresh.
CREATE TABLE search_stale (
    kind TEXT NOT NULL CHECK (kind IN ('update', 'comment')),
    id   INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

INSERT INTO search_updates(rowid, title, description, answers)
    SELECT id, title, description, '' FROM updates;
INSERT INTO search_comments(rowid, body) SELECT id, body FROM comments;

CREATE TRIGGER search_update_insert AFTER INSERT ON updates BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', NEW.id);
END;
CREATE TRIGGER search_update_edit AFTER UPDATE OF title, description ON updates BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', NEW.id);
END;
CREATE TRIGGER search_update_delete AFTER DELETE ON updates BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', OLD.id);
END;

CREATE TRIGGER search_comment_insert AFTER INSERT ON comments BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('comment', NEW.id);
END;
CREATE TRIGGER search_comment_edit AFTER UPDATE OF body ON comments BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('comment', NEW.id);
END;
CREATE TRIGGER search_comment_delete AFTER DELETE ON comments BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('comment', OLD.id);
END;
