-- 0026: AES keys sealed at rest (AES-256-GCM under a master key kept outside the database,
-- see core::keys::vault), named by manufacturer and serial; a key status per meter.
--
-- SQL cannot seal: the clear keys move to `meter_keys_clear`, which the store reads once at
-- its next opening (Store::open: each key sealed into `meter_keys`, then the table dropped
-- with secure_delete so no clear key stays in the file's free pages).
DROP TRIGGER meter_keys_inserted;
DROP TRIGGER meter_keys_updated;
DROP TRIGGER meter_keys_deleted;
ALTER TABLE meter_keys RENAME TO meter_keys_clear;

CREATE TABLE meter_keys (
    serial       TEXT NOT NULL,
    -- '' when the key file named no manufacturer: the key of that serial for any manufacturer
    -- without a key of its own.
    manufacturer TEXT NOT NULL DEFAULT '',
    sealed       BLOB NOT NULL, -- nonce (12) || AES-256-GCM(key) with its tag (32)
    imported_at  INTEGER NOT NULL,
    source       TEXT NOT NULL,
    PRIMARY KEY (serial, manufacturer)
) WITHOUT ROWID;

-- The keys' generation (0019), on the new table.
CREATE TRIGGER meter_keys_inserted AFTER INSERT ON meter_keys BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'keys_generation';
END;
CREATE TRIGGER meter_keys_updated AFTER UPDATE ON meter_keys BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'keys_generation';
END;
CREATE TRIGGER meter_keys_deleted AFTER DELETE ON meter_keys BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'keys_generation';
END;

-- What the meter's newest telegram said of its key, kept by the import (and a key's arrival):
-- 0 never seen, 1 decoded, 2 no key, 3 wrong key, 4 compact layout unknown, 5 undecodable.
ALTER TABLE meters ADD COLUMN key_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE meters ADD COLUMN key_status_at INTEGER;
UPDATE meters SET (key_status, key_status_at) = (
    SELECT CASE t.status WHEN 'decoded' THEN 1 WHEN 'no-key' THEN 2 WHEN 'wrong-key' THEN 3 ELSE 5 END, t.received_at
    FROM telegrams t WHERE t.meter_id = meters.id ORDER BY t.received_at DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM telegrams t WHERE t.meter_id = meters.id);
-- The list filtered by status, in serial order, and the counts per status.
CREATE INDEX meters_key_status ON meters(key_status, serial);
