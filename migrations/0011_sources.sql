-- 0011: sources that deliver readings by themselves (fixed network). A source has a name,
-- a kind (http: concentrators push to POST /ingest/<name>; folder: concentrators upload
-- files into `folder`, an allowed folder; mqtt comes next), the format of what it delivers,
-- and for http the SHA-256 of its token (the token is shown once, when the source is made).
CREATE TABLE sources (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('http', 'mqtt', 'folder')),
    format     TEXT NOT NULL,
    token_hash TEXT,
    folder     TEXT,
    max_body   INTEGER NOT NULL DEFAULT 16777216,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    -- Status, for the sources screen: the last delivery stored, the telegrams of all, and the
    -- last refusal (a code the UI words, its message, when).
    last_push_at       INTEGER,
    telegrams_total    INTEGER NOT NULL DEFAULT 0,
    last_error_code    TEXT,
    last_error_message TEXT,
    last_error_at      INTEGER
);
