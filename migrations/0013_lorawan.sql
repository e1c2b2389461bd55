-- 0013: LoRaWAN connected objects (the convention counts every object, meter or not).

-- The registry, by DevEUI (16 upper-case hexadecimal digits). `payload` says how an uplink's
-- payload is read: wmbus-app (an M-Bus application layer from its CI byte, the link layer
-- given by `manufacturer` and `serial`), wmbus-lobaro (a wireless M-Bus telegram carried by a
-- Lobaro bridge, maybe in fragments), raw (kept, counted as heard). `commissioned`: the date
-- the object was put in service (YYYY-MM-DD); `decommissioned` when it left.
CREATE TABLE lorawan_devices (
    dev_eui        TEXT PRIMARY KEY,
    serial         TEXT NOT NULL DEFAULT '',
    manufacturer   TEXT NOT NULL DEFAULT '',
    brand          TEXT NOT NULL DEFAULT '',
    model          TEXT NOT NULL DEFAULT '',
    payload        TEXT NOT NULL DEFAULT 'raw' CHECK (payload IN ('wmbus-app', 'wmbus-lobaro', 'raw')),
    address        TEXT NOT NULL DEFAULT '',
    city           TEXT NOT NULL DEFAULT '',
    commissioned   TEXT,
    decommissioned TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    -- Kept by the ingest:
    last_uplink    INTEGER,
    last_f_cnt     INTEGER,
    uplinks        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX lorawan_devices_brand ON lorawan_devices(brand, model);

-- Uplinks that gave no telegram: from a DevEUI not in the registry (kept and listed, never
-- dropped), raw payloads, status messages, and telegrams dropped (a fragment missing) with
-- the reason. A retried delivery of one uplink is kept once.
CREATE TABLE lorawan_uplinks (
    dev_eui     TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    f_cnt       INTEGER NOT NULL,
    f_port      INTEGER NOT NULL,
    source_id   INTEGER,
    outcome     TEXT NOT NULL CHECK (outcome IN ('unknown-device', 'raw', 'status', 'dropped')),
    reason      TEXT,
    payload     BLOB NOT NULL,
    PRIMARY KEY (dev_eui, received_at, f_cnt)
) WITHOUT ROWID;
CREATE INDEX lorawan_uplinks_outcome ON lorawan_uplinks(outcome, received_at);

-- Fragments of a telegram spread over several uplinks, waiting for the rest (kept across a
-- restart; removed once the telegram is whole or dropped).
CREATE TABLE lorawan_fragments (
    dev_eui     TEXT NOT NULL,
    f_cnt       INTEGER NOT NULL,
    f_port      INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    data        BLOB NOT NULL,
    PRIMARY KEY (dev_eui, f_cnt)
) WITHOUT ROWID;
