-- 005_ritual.sql - the weekly ritual around the video: short text answers
-- to the check-in prompts an update may carry, and the @mentions
-- (recognition) found in descriptions, answers and comments. The prompts
-- themselves are a setting ("checkin_prompts", a JSON array of strings;
-- the defaults apply while it is unset).

CREATE TABLE update_answers (
    update_id   INTEGER NOT NULL REFERENCES updates(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,           -- 0, 1, ... in the order given
    prompt      TEXT NOT NULL,              -- the prompt as it read when answered
    body        TEXT NOT NULL,
    PRIMARY KEY (update_id, position)
);

-- One row per person mentioned per source: an update (its description and
-- answers together) or a comment. The mention mail goes once per row.
CREATE TABLE mentions (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,     -- who was mentioned
    by_user     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,     -- who wrote it
    update_id   INTEGER NOT NULL REFERENCES updates(id) ON DELETE CASCADE,
    comment_id  INTEGER REFERENCES comments(id) ON DELETE CASCADE,           -- NULL: in the update itself
    source      TEXT NOT NULL,              -- "update:<id>" or "comment:<id>"
    excerpt     TEXT NOT NULL,              -- the words around the mention
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, source)
);
CREATE INDEX mentions_user ON mentions(user_id, created_at);
CREATE INDEX mentions_update ON mentions(update_id);
