-- Billing-export layouts (JSON definitions, see core::billing::Layout) and, per layout, the
-- last file it produced: when, for which period, and its lines by meter, so that a dry run
-- can tell what a new run adds, removes and changes.
CREATE TABLE export_layouts (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,            -- the layout as JSON
    updated_at INTEGER NOT NULL
);

CREATE TABLE export_layout_last_files (
    layout_id   INTEGER PRIMARY KEY REFERENCES export_layouts(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    period_from TEXT NOT NULL,
    period_to   TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    sha256      TEXT NOT NULL
);

-- The data lines of that file, by meter serial (replaced with each run, in its transaction).
CREATE TABLE export_layout_last_lines (
    layout_id INTEGER NOT NULL REFERENCES export_layouts(id) ON DELETE CASCADE,
    meter     TEXT NOT NULL,
    line      TEXT NOT NULL,
    PRIMARY KEY (layout_id, meter)
) WITHOUT ROWID;
