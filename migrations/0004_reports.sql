-- Saved reading-performance reports: the parameters, the summary figures at the time of
-- saving, and a comment the clerk can edit later.
CREATE TABLE performance_reports (
    id               INTEGER PRIMARY KEY,
    created_at       INTEGER NOT NULL,
    user             TEXT NOT NULL,
    from_date        TEXT NOT NULL, -- YYYY-MM-DD, local
    to_date          TEXT NOT NULL, -- YYYY-MM-DD, local, included
    group_id         INTEGER,       -- NULL: all meters
    group_name       TEXT,          -- as it was named when saved
    expected_per_day REAL NOT NULL,
    meters           INTEGER NOT NULL,
    average          REAL NOT NULL, -- average performance, percent
    missing          INTEGER NOT NULL, -- meters with missing readings
    comment          TEXT NOT NULL DEFAULT '',
    commented_at     INTEGER,
    commented_by     TEXT
);
CREATE INDEX performance_reports_created ON performance_reports(created_at);
