-- 003_update_ids.sql - update ids are never given out twice, and every
-- update carries a random nonce that signed media links name with its id,
-- so a link to a deleted update can never play another one.
--
-- SQLite cannot add AUTOINCREMENT to a table in place, so `updates` is
-- rebuilt. The migration runs inside the runner's transaction with foreign
-- keys ON, where PRAGMA foreign_keys cannot be changed: dropping the old
-- `updates` would then cascade into its children (renditions, views,
-- comments, reactions) and null the references of jobs and uploads, and
-- renaming it would rewrite the children's REFERENCES clauses. So the
-- children are rebuilt too: new tables referencing the new parent, rows
-- copied (ids kept), old children dropped first (nothing references
-- them), then the old parent (nothing references it any more), then the
-- new tables renamed into place (the rename rewrites the children's
-- REFERENCES to "updates") and their indexes made again.

CREATE TABLE updates_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id   INTEGER NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL DEFAULT 'weekly' CHECK (kind IN ('weekly', 'allhands')),
    iso_week    TEXT NOT NULL,      -- e.g. 2026-W48, in the author's time zone
    title       TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'uploading'
                CHECK (status IN ('uploading', 'queued', 'processing', 'ready', 'failed')),
    error       TEXT NOT NULL DEFAULT '',
    duration    REAL,
    width       INTEGER,
    height      INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    ready_at    INTEGER,
    -- 128 random bits, hex; signed media links carry it (see src/media.c)
    nonce       TEXT NOT NULL DEFAULT (lower(hex(randomblob(16))))
);
INSERT INTO updates_new(id, author_id, kind, iso_week, title, description, status, error,
                        duration, width, height, created_at, updated_at, ready_at)
    SELECT id, author_id, kind, iso_week, title, description, status, error,
           duration, width, height, created_at, updated_at, ready_at FROM updates;
-- (Copying the rows with their ids sets sqlite_sequence to the highest.)

CREATE TABLE uploads_new (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    length      INTEGER,            -- NULL while deferred
    offset      INTEGER NOT NULL DEFAULT 0,
    metadata    TEXT NOT NULL DEFAULT '',
    filename    TEXT NOT NULL DEFAULT '',
    filetype    TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL DEFAULT 'weekly' CHECK (kind IN ('weekly', 'allhands')),
    update_id   INTEGER REFERENCES updates_new(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
INSERT INTO uploads_new(id, user_id, length, offset, metadata, filename, filetype, title,
                        description, kind, update_id, created_at, expires_at)
    SELECT id, user_id, length, offset, metadata, filename, filetype, title,
           description, kind, update_id, created_at, expires_at FROM uploads;

CREATE TABLE renditions_new (
    id            INTEGER PRIMARY KEY,
    update_id     INTEGER NOT NULL REFERENCES updates_new(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    bandwidth     INTEGER NOT NULL,
    avg_bandwidth INTEGER NOT NULL,
    codecs        TEXT NOT NULL
);
INSERT INTO renditions_new(id, update_id, name, width, height, bandwidth, avg_bandwidth, codecs)
    SELECT id, update_id, name, width, height, bandwidth, avg_bandwidth, codecs FROM renditions;

CREATE TABLE jobs_new (
    id           INTEGER PRIMARY KEY,
    update_id    INTEGER REFERENCES updates_new(id) ON DELETE SET NULL,
    input_path   TEXT NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,  -- higher first (all-hands)
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'done', 'failed', 'dropped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    worker       TEXT,
    lease_until  INTEGER,
    heartbeat_at INTEGER,
    progress     REAL NOT NULL DEFAULT 0,
    eta          REAL,
    error        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
INSERT INTO jobs_new(id, update_id, input_path, priority, state, attempts, worker, lease_until,
                     heartbeat_at, progress, eta, error, created_at, updated_at)
    SELECT id, update_id, input_path, priority, state, attempts, worker, lease_until,
           heartbeat_at, progress, eta, error, created_at, updated_at FROM jobs;

CREATE TABLE views_new (
    update_id   INTEGER NOT NULL REFERENCES updates_new(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    position    REAL NOT NULL DEFAULT 0,
    completed   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (update_id, user_id)
);
INSERT INTO views_new(update_id, user_id, first_seen, last_seen, position, completed)
    SELECT update_id, user_id, first_seen, last_seen, position, completed FROM views;

CREATE TABLE comments_new (
    id          INTEGER PRIMARY KEY,
    update_id   INTEGER NOT NULL REFERENCES updates_new(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at_seconds  REAL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO comments_new(id, update_id, user_id, at_seconds, body, created_at)
    SELECT id, update_id, user_id, at_seconds, body, created_at FROM comments;

CREATE TABLE reactions_new (
    id          INTEGER PRIMARY KEY,
    update_id   INTEGER NOT NULL REFERENCES updates_new(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL,
    at_seconds  REAL,
    created_at  INTEGER NOT NULL,
    UNIQUE (update_id, user_id, emoji)
);
INSERT INTO reactions_new(id, update_id, user_id, emoji, at_seconds, created_at)
    SELECT id, update_id, user_id, emoji, at_seconds, created_at FROM reactions;

-- Children first: nothing references them, so dropping them touches nothing.
DROP TABLE uploads;
DROP TABLE renditions;
DROP TABLE jobs;
DROP TABLE views;
DROP TABLE comments;
DROP TABLE reactions;
-- Now no table references the old parent: its implicit DELETE cascades nowhere.
DROP TABLE updates;

ALTER TABLE updates_new RENAME TO updates;
ALTER TABLE uploads_new RENAME TO uploads;
ALTER TABLE renditions_new RENAME TO renditions;
ALTER TABLE jobs_new RENAME TO jobs;
ALTER TABLE views_new RENAME TO views;
ALTER TABLE comments_new RENAME TO comments;
ALTER TABLE reactions_new RENAME TO reactions;

CREATE INDEX updates_week ON updates(iso_week, kind);
CREATE INDEX updates_author ON updates(author_id, iso_week);
CREATE INDEX uploads_user ON uploads(user_id);
CREATE INDEX renditions_update ON renditions(update_id);
CREATE INDEX jobs_state ON jobs(state, priority, created_at);
CREATE INDEX comments_update ON comments(update_id);
