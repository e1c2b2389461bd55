-- 0031: retention (core::retention). The feeds of the open API (0029) keep this many days
-- of rows (by `at`), oldest first; the other periods were set by 0028. The nightly run is
-- claimed per local date in `retention_last_night` (written by the first run).
INSERT OR IGNORE INTO settings(key, value) VALUES ('retention_feed_days', '60');
