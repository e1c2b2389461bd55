-- 0029: the open API's feeds (readings and info codes in the order they were stored) and
-- API keys for billing systems and portals.

-- One row per reading newly stored, in storing order: `seq` is the feed's cursor. A late
-- reading (old `ts`) gets a new `seq`, so a client following the feed never misses it.
-- AUTOINCREMENT: a `seq` is never given twice, even after the oldest rows are purged
-- (retention: rows older than `retention_feed_days` by `at`, the time stored).
CREATE TABLE reading_feed (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    meter_id INTEGER NOT NULL,
    register INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    at       INTEGER NOT NULL
);

-- Info codes starting and ending, in the order they were stored (written by the triggers
-- below, whichever code path stores the event). `at` is the event's time (start or end).
CREATE TABLE info_code_feed (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    meter_id   INTEGER NOT NULL,
    code       TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    event      TEXT NOT NULL CHECK (event IN ('start', 'end')),
    at         INTEGER NOT NULL
);
CREATE TRIGGER info_code_feed_start AFTER INSERT ON info_code_events BEGIN
    INSERT INTO info_code_feed(meter_id, code, started_at, event, at)
    VALUES (new.meter_id, new.code, new.started_at, 'start', new.started_at);
    INSERT INTO info_code_feed(meter_id, code, started_at, event, at)
    SELECT new.meter_id, new.code, new.started_at, 'end', new.ended_at WHERE new.ended_at IS NOT NULL;
END;
CREATE TRIGGER info_code_feed_end AFTER UPDATE OF ended_at ON info_code_events
WHEN old.ended_at IS NULL AND new.ended_at IS NOT NULL BEGIN
    INSERT INTO info_code_feed(meter_id, code, started_at, event, at)
    VALUES (new.meter_id, new.code, new.started_at, 'end', new.ended_at);
END;

-- API keys of billing systems and portals. Only the SHA-256 of the secret is kept (the
-- secret is 256 random bits, shown once); `prefix` (the secret's first characters) names it
-- on screens. `scopes`: space-separated (access::Scope); `group_ids`: comma-separated groups
-- the key is limited to (NULL: every meter); `customer_id`: a portal key limited to one
-- customer's meters.
CREATE TABLE api_keys (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    secret_hash     TEXT NOT NULL UNIQUE,
    scopes          TEXT NOT NULL,
    group_ids       TEXT,
    customer_id     INTEGER REFERENCES customers(id),
    expires_at      INTEGER,
    rate_per_minute INTEGER NOT NULL DEFAULT 600,
    created_at      INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    revoked_at      INTEGER,
    last_used_at    INTEGER
);
