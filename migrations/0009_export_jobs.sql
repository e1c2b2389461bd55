-- Scheduled billing exports: a saved layout written to a folder or e-mailed at set times,
-- and every run of it (claimed once per job and time slot, retried when it failed).
CREATE TABLE export_jobs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    layout TEXT NOT NULL,                -- export_layouts.name
    every TEXT NOT NULL,                 -- 'daily' | 'weekly' | 'monthly'
    weekday INTEGER NOT NULL DEFAULT 1,  -- 1 = Monday (weekly)
    day INTEGER NOT NULL DEFAULT 1,      -- 1..28 (monthly)
    hour INTEGER NOT NULL,
    minute INTEGER NOT NULL DEFAULT 0,
    period TEXT NOT NULL,                -- 'previous_day' | 'previous_week' | 'previous_month' | 'month_to_date'
    destination TEXT NOT NULL,           -- 'folder' | 'email'
    folder TEXT NOT NULL DEFAULT '',
    email_to TEXT NOT NULL DEFAULT '',   -- newline-separated
    report_to TEXT NOT NULL DEFAULT '',  -- who hears of a run that failed for good
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL          -- slots before the last save are not owed
);

CREATE TABLE export_runs (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL,
    job TEXT NOT NULL,                   -- the job's name at the time
    layout TEXT NOT NULL,
    scheduled_for INTEGER NOT NULL,      -- the slot (or the time of a 'run now')
    trigger TEXT NOT NULL,               -- 'schedule' | 'manual'
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    status TEXT NOT NULL,                -- 'running' | 'ok' | 'failed'
    attempt INTEGER NOT NULL DEFAULT 1,
    runner TEXT NOT NULL,                -- which process ran it (computer, pid)
    file TEXT,
    rows INTEGER,
    bytes INTEGER,
    sha256 TEXT,
    duration_ms INTEGER,
    error TEXT,
    UNIQUE (job_id, scheduled_for)       -- two runners never run the same slot twice
);
CREATE INDEX export_runs_by_time ON export_runs(started_at);
