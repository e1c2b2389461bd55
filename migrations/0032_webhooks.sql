-- Webhooks: the endpoints a manager registers, one delivery per (endpoint, event) with its
-- attempts, and the cursors of the poller that makes the events from the store's tables.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,                -- the event types subscribed, comma-separated
    secret TEXT NOT NULL,                -- the HMAC key (hex); returned once, by webhook_add
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,              -- the header Releve-Delivery
    endpoint_id INTEGER NOT NULL,
    event TEXT NOT NULL,                 -- 'export.done' | 'readings.batch' | 'info_code.started' | 'ping'
    ref TEXT NOT NULL,                   -- what the event is of (e.g. 'export_run:12:1'): made once per endpoint
    body TEXT NOT NULL,                  -- the JSON sent, the same at every attempt
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,                -- 'pending' | 'delivered' | 'failed'
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try INTEGER,                    -- pending: when the next attempt is due (or its claim ends)
    last_try INTEGER,
    http_status INTEGER,                 -- the last answer's status
    response TEXT,                       -- the start of the last answer's body (bounded)
    error TEXT,                          -- the last attempt's failure in words
    UNIQUE (endpoint_id, ref)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_try) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries(created_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, status);

-- How far the poller has read each source (so nothing is lost or sent twice across restarts).
CREATE TABLE webhook_cursors (
    source TEXT PRIMARY KEY,             -- 'export_runs' (a finished_at time) | 'reading_feed' | 'info_code_feed' (a seq)
    last INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX export_runs_by_finish ON export_runs(finished_at) WHERE finished_at IS NOT NULL;
