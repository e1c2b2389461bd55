-- 0012: the fixed network: MQTT sources, gateways and every reception, priority meters.

-- An MQTT source subscribes to `topic` (a filter) on the broker at `url` (mqtt:// or
-- mqtts://), with a user and password and client certificate files when the broker asks.
-- `state` is what its connection is doing (connecting, running, reconnecting, stopped), for
-- the sources screen.
ALTER TABLE sources ADD COLUMN url TEXT;
ALTER TABLE sources ADD COLUMN topic TEXT;
ALTER TABLE sources ADD COLUMN username TEXT;
ALTER TABLE sources ADD COLUMN password TEXT;
ALTER TABLE sources ADD COLUMN ca_file TEXT;
ALTER TABLE sources ADD COLUMN cert_file TEXT;
ALTER TABLE sources ADD COLUMN key_file TEXT;
ALTER TABLE sources ADD COLUMN state TEXT;
ALTER TABLE sources ADD COLUMN state_at INTEGER;

-- Gateways: concentrators (named by their serial, or by their source when they send none)
-- and LoRaWAN gateways (by gateway id / EUI), met when they deliver a frame.
CREATE TABLE gateways (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL DEFAULT 'concentrator' CHECK (kind IN ('concentrator', 'lorawan')),
    label         TEXT NOT NULL DEFAULT '',
    lat           REAL,
    lon           REAL,
    -- Hours without a frame before the gateway is silent (NULL: setting gateway_silent_hours).
    silent_hours  INTEGER,
    first_contact INTEGER NOT NULL,
    last_contact  INTEGER NOT NULL,
    last_source   INTEGER,
    -- When the silence alarm was raised (cleared by the next frame).
    silent_since  INTEGER
);

-- Every reception: a telegram heard by a gateway. The telegram and its readings are stored
-- once however many gateways heard it; a retry of the same delivery adds nothing.
CREATE TABLE receptions (
    meter_id    INTEGER NOT NULL,
    telegram_id INTEGER NOT NULL,
    gateway_id  INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    rssi        INTEGER,
    snr         REAL,
    source_id   INTEGER,
    PRIMARY KEY (meter_id, telegram_id, gateway_id)
) WITHOUT ROWID;
CREATE INDEX receptions_gateway ON receptions(gateway_id, received_at);

-- What each gateway hears of each meter, kept by the ingest so screens never scan
-- receptions: meters heard, meters heard by no other gateway, best RSSI per gateway.
CREATE TABLE gateway_meters (
    gateway_id  INTEGER NOT NULL,
    meter_id    INTEGER NOT NULL,
    first_heard INTEGER NOT NULL,
    last_heard  INTEGER NOT NULL,
    receptions  INTEGER NOT NULL DEFAULT 0,
    best_rssi   INTEGER,
    last_rssi   INTEGER,
    last_snr    REAL,
    PRIMARY KEY (gateway_id, meter_id)
) WITHOUT ROWID;
CREATE INDEX gateway_meters_meter ON gateway_meters(meter_id);

-- Priority meters: watched live (last 24 h, updated as frames arrive).
ALTER TABLE meters ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
CREATE INDEX meters_priority ON meters(id) WHERE priority <> 0;

INSERT OR IGNORE INTO settings(key, value) VALUES ('gateway_silent_hours', '6');
