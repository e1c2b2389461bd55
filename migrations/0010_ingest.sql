-- 0010: imports committed in short slices, reading conflicts, heard devices.

-- An import is committed in short slices (so logins and edits never wait behind it):
-- `state` says where it is (running, done, failed), `next_line` is the first line not yet
-- committed, `file_size` and `file_hash` tell the file's content; importing the same
-- content again completes an import whose process died (and marks that one failed, with
-- the line it had reached). The counts are those of the committed slices, so the report of
-- an interrupted import is what is really stored.
ALTER TABLE imports ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
ALTER TABLE imports ADD COLUMN next_line INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN file_size INTEGER;
ALTER TABLE imports ADD COLUMN file_hash TEXT;
ALTER TABLE imports ADD COLUMN telegrams INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN kept_undecoded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN readings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN new_meters INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN heard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN error TEXT;
CREATE INDEX imports_running ON imports(state) WHERE state = 'running';

-- Two different values for one meter, register and time: the first stored is kept, the
-- other is listed here with the telegram that carried it (both telegrams are kept).
CREATE TABLE reading_conflicts (
    import_id      INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    line           INTEGER NOT NULL,
    meter_id       INTEGER NOT NULL,
    register       INTEGER NOT NULL,
    ts             INTEGER NOT NULL,
    kept_value     REAL NOT NULL,
    kept_telegram  INTEGER,
    other_value    REAL NOT NULL,
    other_telegram INTEGER,
    PRIMARY KEY (import_id, line, register)
) WITHOUT ROWID;
CREATE INDEX reading_conflicts_meter ON reading_conflicts(meter_id, register, ts);

-- Devices heard whose telegrams do not decode (no key, wrong key, unknown layout) and that
-- are not in the park: a clerk adopts them (or a key file names them), they never enter the
-- park by themselves. Their telegrams are kept raw until then.
CREATE TABLE heard_devices (
    id           INTEGER PRIMARY KEY,
    serial       TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    version      INTEGER NOT NULL,
    device_type  TEXT NOT NULL,
    first_heard  INTEGER NOT NULL,
    last_heard   INTEGER NOT NULL,
    times_heard  INTEGER NOT NULL DEFAULT 0,
    last_rssi    INTEGER,
    encrypted    INTEGER NOT NULL,
    last_status  TEXT NOT NULL,
    UNIQUE (serial, manufacturer)
);
CREATE TABLE heard_telegrams (
    device_id   INTEGER NOT NULL REFERENCES heard_devices(id) ON DELETE CASCADE,
    id          INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    rssi        INTEGER,
    import_id   INTEGER,
    raw         BLOB NOT NULL,
    PRIMARY KEY (device_id, id)
) WITHOUT ROWID;

-- The plausible window of reception times (a line outside it is rejected with its reason).
INSERT OR IGNORE INTO settings(key, value) VALUES ('import_earliest_year', '2000'), ('import_max_future_minutes', '10');
