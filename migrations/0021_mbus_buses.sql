-- 0021: wired M-Bus buses that Relevé reads as the master, their meters (by primary or
-- secondary address), the last answer of each meter and the last scan of each bus.
CREATE TABLE mbus_buses (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- 'serial' (a level converter: `target` is the device) or 'tcp' (a transparent gateway:
    -- `target` is host:port)
    transport  TEXT NOT NULL CHECK (transport IN ('serial', 'tcp')),
    target     TEXT NOT NULL,
    baud       INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    echo       INTEGER NOT NULL DEFAULT 0,
    schedule   TEXT NOT NULL DEFAULT 'off' CHECK (schedule IN ('hourly', 'daily', 'off')),
    enabled    INTEGER NOT NULL DEFAULT 1,
    -- The slot (Unix seconds of its start) last read on schedule: a slot is read once.
    last_slot  INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE mbus_bus_meters (
    id        INTEGER PRIMARY KEY,
    bus_id    INTEGER NOT NULL REFERENCES mbus_buses(id) ON DELETE CASCADE,
    -- '5' (primary) or 16 characters (secondary address)
    address   TEXT NOT NULL,
    meter_id  INTEGER REFERENCES meters(id),
    -- The last answer: when, its frames (hex, one a line), or the error (code and words)
    answer_at INTEGER,
    frames    TEXT NOT NULL DEFAULT '',
    error_code TEXT,
    error     TEXT,
    UNIQUE (bus_id, address)
);
-- The last scan of each bus: what was found (JSON objects, one a line).
CREATE TABLE mbus_scans (
    bus_id     INTEGER PRIMARY KEY REFERENCES mbus_buses(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('primary', 'secondary')),
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    found      TEXT NOT NULL DEFAULT '',
    error      TEXT
);
