-- Elia C8/06 aFRR gateway (crates/core/src/c806): one gateway, its delivery points, the
-- encryption keys the platform sent, every 4-second value (the outgoing buffer is the rows
-- not yet sent; the rest is kept 90 days for the fallback files) and the heartbeats.
CREATE TABLE c806_gateway (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    broker_url     TEXT NOT NULL,
    gid            TEXT NOT NULL,
    sid            TEXT NOT NULL,
    username       TEXT,
    topic_up       TEXT NOT NULL,
    topic_down     TEXT NOT NULL,
    ca_file        TEXT,
    enabled        INTEGER NOT NULL DEFAULT 0,
    -- The PFX's certificate chain (DER, each prefixed by its 4-byte big-endian length) and
    -- private key (PKCS#8 DER): read by the runner only, never returned by a command.
    cert_chain     BLOB,
    private_key    BLOB,
    cert_subject   TEXT,
    cert_imported_at INTEGER,
    state          TEXT NOT NULL DEFAULT 'stopped',
    state_code     TEXT,
    state_message  TEXT,
    state_at       INTEGER,
    key_error      TEXT,
    key_error_at   INTEGER,
    clock_sync_at  INTEGER,
    -- The runner that sends (one per database: `releve serve`, the window or `releve c806
    -- run`): its name and when it last said so (Unix ms); another takes over 6 s after.
    runner         TEXT,
    runner_at      INTEGER,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE c806_sdps (
    id          INTEGER PRIMARY KEY,
    ean         TEXT NOT NULL UNIQUE,
    meter_id    INTEGER REFERENCES meters(id),
    enabled     INTEGER NOT NULL DEFAULT 1,
    -- The power feed (MW) when no meter is linked, and the BSP's SCADA set-points.
    feed_mw     REAL,
    feed_at     INTEGER,
    dpb_mw      REAL,
    afrr_active INTEGER,
    ps_mw       REAL,
    setpoints_at INTEGER
);

CREATE TABLE c806_keys (
    version     INTEGER PRIMARY KEY,
    mt          TEXT NOT NULL,
    key         BLOB NOT NULL,
    key_type    TEXT NOT NULL,
    valid_from  INTEGER NOT NULL, -- Unix ms
    valid_to    INTEGER NOT NULL, -- Unix ms
    received_at INTEGER NOT NULL
);

-- One row per SDP and 4-second slot; sent_at NULL: still in the outgoing buffer.
CREATE TABLE c806_values (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    sdp     TEXT NOT NULL,
    mts     INTEGER NOT NULL, -- Unix ms of the slot
    dpm     REAL NOT NULL,
    dpb     REAL NOT NULL,
    afrr    INTEGER NOT NULL,
    ps      REAL NOT NULL,
    sent_at INTEGER,          -- Unix ms
    UNIQUE (sdp, mts)
);
CREATE INDEX c806_values_unsent ON c806_values(seq) WHERE sent_at IS NULL;
CREATE INDEX c806_values_mts ON c806_values(mts);

CREATE TABLE c806_heartbeats (
    id          INTEGER PRIMARY KEY,
    mid         INTEGER NOT NULL,
    received_at INTEGER NOT NULL, -- Unix ms
    ts_asked    INTEGER NOT NULL,
    gwv_asked   INTEGER NOT NULL,
    answered_at INTEGER
);
