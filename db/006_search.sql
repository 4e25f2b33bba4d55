-- 006_search.sql - full-text search over what people wrote: update titles
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

-- One row per update, rowid = updates.id.
--
-- `answers` holds the text of an update's check-in answers (update_answers
-- of 005_ritual.sql), joined by newlines; triggers on update_answers mark
-- the update stale (at the end of this file).
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

-- Check-in answers are searched with their update.
CREATE TRIGGER search_answer_insert AFTER INSERT ON update_answers BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', NEW.update_id);
END;
CREATE TRIGGER search_answer_edit AFTER UPDATE ON update_answers BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', NEW.update_id);
END;
CREATE TRIGGER search_answer_delete AFTER DELETE ON update_answers BEGIN
    INSERT OR IGNORE INTO search_stale(kind, id) VALUES ('update', OLD.update_id);
END;
INSERT OR IGNORE INTO search_stale(kind, id) SELECT DISTINCT 'update', update_id FROM update_answers;
