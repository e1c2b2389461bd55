-- 0035: the meter screen. Readings entered or corrected by hand: one row per edit, kept
-- forever (who, when, from which computer, why, the value before and after). A correction
-- changes the value in `readings` (every screen, report and export reads the corrected
-- value) but the raw telegram it came from stays in `telegrams`, and the value it replaced
-- is here (`old_value`, `old_telegram_id`). The table and chart mark the readings that have
-- an edit as manual. A meter gets free notes and the mark "to remove" (à déposer: still in
-- service and read, to be taken out at the next visit).
CREATE TABLE reading_edits (
    id              INTEGER PRIMARY KEY,
    meter_id        INTEGER NOT NULL REFERENCES meters(id),
    register        INTEGER NOT NULL,
    ts              INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('manual', 'correction')),
    value           REAL NOT NULL,
    old_value       REAL,
    old_telegram_id INTEGER,
    reason          TEXT NOT NULL,
    user            TEXT NOT NULL,
    computer        TEXT NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX reading_edits_reading ON reading_edits(meter_id, register, ts);

ALTER TABLE meters ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE meters ADD COLUMN to_remove INTEGER NOT NULL DEFAULT 0;
