-- Customers-and-meters import: named column mappings ("profiles"), optionally watching a
-- folder at an interval. `mapping` is JSON {field: CSV column index (0-based)}.
CREATE TABLE park_profiles (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    separator        TEXT NOT NULL CHECK (separator IN (';', ',', char(9))),
    has_header       INTEGER NOT NULL DEFAULT 1,
    mapping          TEXT NOT NULL,
    folder           TEXT,
    interval_minutes INTEGER CHECK (interval_minutes IS NULL OR interval_minutes > 0),
    last_run         INTEGER,
    updated_at       INTEGER NOT NULL
);
