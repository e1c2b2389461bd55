-- Relevé schema, version 1. Append-only: never edit once landed; add 0002_*.sql instead.
-- Times are Unix seconds (UTC). Meter values are in canonical units (m3, kWh, W, ...).

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO settings(key, value) VALUES ('timezone', 'Europe/Paris'), ('locale', 'fr');

-- Access --------------------------------------------------------------------------------
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('user', 'superuser', 'manager')),
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'en')),
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

-- The permission matrix: which role may do what. Editable by a manager.
CREATE TABLE role_permissions (
    role       TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (role, permission)
) WITHOUT ROWID;
INSERT INTO role_permissions(role, permission) VALUES
    ('user', 'view'), ('user', 'export'),
    ('superuser', 'view'), ('superuser', 'export'), ('superuser', 'import'),
    ('superuser', 'edit_meters'), ('superuser', 'manage_keys'),
    ('manager', 'view'), ('manager', 'export'), ('manager', 'import'),
    ('manager', 'edit_meters'), ('manager', 'manage_keys'), ('manager', 'manage_users'),
    ('manager', 'settings');

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    event    TEXT NOT NULL,
    user     TEXT NOT NULL,
    computer TEXT NOT NULL,
    details  TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);

-- Park ----------------------------------------------------------------------------------
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL DEFAULT '',
    email       TEXT,
    phone       TEXT
);
CREATE INDEX customers_name ON customers(name);

CREATE TABLE meters (
    id           INTEGER PRIMARY KEY,
    serial       TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 0,
    device_type  TEXT NOT NULL,
    model        TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'unassigned', 'removed')),
    customer_id  INTEGER REFERENCES customers(id),
    address      TEXT NOT NULL DEFAULT '',
    postal_code  TEXT NOT NULL DEFAULT '',
    city         TEXT NOT NULL DEFAULT '',
    lat          REAL,
    lon          REAL,
    installed_at INTEGER,
    removed_at   INTEGER,
    created_at   INTEGER NOT NULL,
    -- Kept up to date by the import, for fast lists and maps:
    last_seen    INTEGER,
    info_codes   INTEGER NOT NULL DEFAULT 0, -- bit mask of active info codes
    UNIQUE (serial, manufacturer)
);
CREATE INDEX meters_customer ON meters(customer_id);
CREATE INDEX meters_address ON meters(address);
CREATE INDEX meters_city ON meters(city);
CREATE INDEX meters_last_seen ON meters(last_seen);
CREATE INDEX meters_alarm ON meters(info_codes) WHERE info_codes <> 0;

CREATE TABLE meter_groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE meter_group_members (
    group_id INTEGER NOT NULL REFERENCES meter_groups(id) ON DELETE CASCADE,
    meter_id INTEGER NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, meter_id)
) WITHOUT ROWID;
CREATE INDEX meter_group_members_meter ON meter_group_members(meter_id, group_id);

-- A meter replaced by another at the same installation.
CREATE TABLE meter_exchanges (
    id            INTEGER PRIMARY KEY,
    old_meter_id  INTEGER NOT NULL REFERENCES meters(id),
    new_meter_id  INTEGER NOT NULL REFERENCES meters(id),
    at            INTEGER NOT NULL,
    register      TEXT NOT NULL,
    final_value   REAL NOT NULL,
    initial_value REAL NOT NULL,
    user          TEXT NOT NULL
);
CREATE INDEX meter_exchanges_old ON meter_exchanges(old_meter_id);
CREATE INDEX meter_exchanges_new ON meter_exchanges(new_meter_id);

-- AES keys by meter serial (key files name meters by serial; the meter may come later).
CREATE TABLE meter_keys (
    serial      TEXT PRIMARY KEY,
    key         BLOB NOT NULL CHECK (length(key) = 16),
    imported_at INTEGER NOT NULL,
    source      TEXT NOT NULL
) WITHOUT ROWID;

-- Readings ------------------------------------------------------------------------------
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    user        TEXT NOT NULL,
    source      TEXT NOT NULL, -- file name, concentrator, ...
    lines       INTEGER NOT NULL DEFAULT 0,
    stored      INTEGER NOT NULL DEFAULT 0,
    duplicates  INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE import_rejects (
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    code      TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
) WITHOUT ROWID;

-- Every telegram as received, stored once: keyed by its meter and a 63-bit hash of its
-- bytes (probing on a collision), so the same telegram from two sources or two imports is
-- one row, and a meter's telegrams sit together like its readings. status: decoded,
-- no-key, wrong-key, undecodable.
CREATE TABLE telegrams (
    meter_id    INTEGER NOT NULL REFERENCES meters(id),
    id          INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    rssi        INTEGER,
    import_id   INTEGER,
    status      TEXT NOT NULL,
    raw         BLOB NOT NULL,
    PRIMARY KEY (meter_id, id)
) WITHOUT ROWID;
-- Telegrams waiting for a key or a driver.
CREATE INDEX telegrams_pending ON telegrams(meter_id) WHERE status <> 'decoded';

-- One value per meter, register and time, pointing at its telegram (meter_id, telegram_id).
-- register: see core::model::Register.
CREATE TABLE readings (
    meter_id    INTEGER NOT NULL,
    register    INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    value       REAL NOT NULL,
    telegram_id INTEGER,
    PRIMARY KEY (meter_id, register, ts)
) WITHOUT ROWID;

-- Info-code events: an ongoing code is one open row (ended_at NULL).
CREATE TABLE info_code_events (
    meter_id     INTEGER NOT NULL,
    code         TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ended_at     INTEGER,
    PRIMARY KEY (meter_id, code, started_at)
) WITHOUT ROWID;
CREATE INDEX info_code_events_open ON info_code_events(meter_id) WHERE ended_at IS NULL;
