-- 001_init.sql - the first catalog schema: people, sessions, tokens,
-- invites, uploads, updates with their renditions and transcode jobs,
-- views, comments, reactions, the mail outbox and company settings.
-- Times are Unix seconds (UTC) unless a column says otherwise.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    team          TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    password_hash TEXT,
    time_zone     TEXT NOT NULL DEFAULT 'UTC',
    notify_updates TEXT NOT NULL DEFAULT 'digest'
                  CHECK (notify_updates IN ('immediate', 'digest', 'off')),
    notify_reminders INTEGER NOT NULL DEFAULT 1,
    unsubscribed  INTEGER NOT NULL DEFAULT 0,
    deactivated   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    last_used   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Invites, password resets and the one-time first-run setup link.
CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    token_hash  BLOB NOT NULL UNIQUE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'reset', 'setup')),
    email       TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
    invited_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE uploads (
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
    update_id   INTEGER REFERENCES updates(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX uploads_user ON uploads(user_id);

CREATE TABLE updates (
    id          INTEGER PRIMARY KEY,
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
    ready_at    INTEGER
);
CREATE INDEX updates_week ON updates(iso_week, kind);
CREATE INDEX updates_author ON updates(author_id, iso_week);

CREATE TABLE renditions (
    id            INTEGER PRIMARY KEY,
    update_id     INTEGER NOT NULL REFERENCES updates(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    bandwidth     INTEGER NOT NULL,
    avg_bandwidth INTEGER NOT NULL,
    codecs        TEXT NOT NULL
);
CREATE INDEX renditions_update ON renditions(update_id);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    update_id    INTEGER REFERENCES updates(id) ON DELETE SET NULL,
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
CREATE INDEX jobs_state ON jobs(state, priority, created_at);

CREATE TABLE views (
    update_id   INTEGER NOT NULL REFERENCES updates(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    position    REAL NOT NULL DEFAULT 0,
    completed   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (update_id, user_id)
);

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    update_id   INTEGER NOT NULL REFERENCES updates(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at_seconds  REAL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX comments_update ON comments(update_id);

CREATE TABLE reactions (
    id          INTEGER PRIMARY KEY,
    update_id   INTEGER NOT NULL REFERENCES updates(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL,
    at_seconds  REAL,
    created_at  INTEGER NOT NULL,
    UNIQUE (update_id, user_id, emoji)
);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    to_user     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    to_addr     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body_text   TEXT NOT NULL,
    body_html   TEXT NOT NULL DEFAULT '',
    dedupe_key  TEXT UNIQUE,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try    INTEGER NOT NULL,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
);
CREATE INDEX outbox_pending ON outbox(state, next_try);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings(key, value) VALUES
    ('company_name', 'Our company'),
    ('purpose', ''),
    ('reminder_day', '4'),        -- ISO weekday, 4 = Thursday
    ('reminder_time', '10:00'),
    ('reminder_second', '1'),
    ('digest_day', '1'),
    ('digest_time', '08:00');
