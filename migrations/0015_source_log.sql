-- 0015: what a source could not take, and why its connection is not running.

-- Messages an MQTT source acknowledged without storing them (unreadable, too large): the
-- last 1,000 per source are kept (older ones are deleted as new ones come).
CREATE TABLE source_log (
    id        INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    code      TEXT NOT NULL,
    message   TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX source_log_source ON source_log(source_id, id);

-- Why an MQTT source's connection is reconnecting: a code for the screen to word, and the
-- broker's or the network's own message.
ALTER TABLE sources ADD COLUMN state_code TEXT;
ALTER TABLE sources ADD COLUMN state_message TEXT;
