-- 0019: a generation number for the AES keys, bumped by every change of `meter_keys` (by any
-- process), so a process may keep the keys in memory and reload them only when they change.
INSERT OR IGNORE INTO settings(key, value) VALUES ('keys_generation', '0');
CREATE TRIGGER meter_keys_inserted AFTER INSERT ON meter_keys BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'keys_generation';
END;
CREATE TRIGGER meter_keys_updated AFTER UPDATE ON meter_keys BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'keys_generation';
END;
CREATE TRIGGER meter_keys_deleted AFTER DELETE ON meter_keys BEGIN
    UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'keys_generation';
END;
