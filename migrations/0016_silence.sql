-- 0016: supervision of the fixed network: silent gateways and silent meters.

-- A gateway's silences (and later other gateway events): opened by the network check when
-- no frame came for its silent hours (`gateways.silent_since` is the open one), closed by
-- its next frame. Notification rules on code `gateway_silent` send one notice per row.
CREATE TABLE gateway_events (
    gateway_id INTEGER NOT NULL,
    code       TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,
    PRIMARY KEY (gateway_id, code, started_at)
) WITHOUT ROWID;
CREATE INDEX gateway_events_open ON gateway_events(gateway_id) WHERE ended_at IS NULL;

-- Meters a gateway of the fixed network has heard (set with their first reception): only
-- they are supervised; a park read on foot is not silent between two rounds.
ALTER TABLE meters ADD COLUMN on_network INTEGER NOT NULL DEFAULT 0;
UPDATE meters SET on_network = 1 WHERE id IN (SELECT meter_id FROM gateway_meters);

-- Meters of the network in service, heard, not (yet) silent, by device type and last
-- frame: the network check finds those that just passed their class's period by a range of
-- this index, never a scan of the park. 256 is the bit of info code `silent`
-- (model::INFO_CODES[8]).
CREATE INDEX meters_unsilent ON meters(device_type, last_seen)
    WHERE info_codes & 256 = 0 AND last_seen IS NOT NULL AND status <> 'removed' AND on_network <> 0;

-- Hours without a frame before a meter of a class is silent (0: not supervised).
INSERT OR IGNORE INTO settings(key, value) VALUES
    ('meter_silent_hours.water', '48'),
    ('meter_silent_hours.heat', '48'),
    ('meter_silent_hours.electricity', '24'),
    ('meter_silent_hours.gas', '48'),
    ('meter_silent_hours.heat_cost_allocator', '168'),
    ('meter_silent_hours.other', '72');
