-- Alarm notifications: rules (which info codes, where, how long, to whom) and every notice
-- sent or attempted, one per ongoing event, rule, channel and recipient.
CREATE TABLE notify_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    codes TEXT NOT NULL,                 -- comma-separated info codes
    group_id INTEGER,
    customer_class TEXT,                 -- prefix of the customer number
    min_duration_minutes INTEGER NOT NULL,
    quiet_from TEXT,                     -- 'HH:MM' local time
    quiet_to TEXT,
    email_to TEXT NOT NULL DEFAULT '',   -- newline-separated
    sms_to TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
);

CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    rule_id INTEGER NOT NULL,
    meter_id INTEGER NOT NULL,
    code TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    channel TEXT NOT NULL,               -- 'email' | 'sms'
    recipient TEXT NOT NULL,
    sent_at INTEGER NOT NULL,            -- time of the last attempt
    status TEXT NOT NULL,                -- 'sent' | 'failed'
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    UNIQUE (rule_id, meter_id, code, started_at, channel, recipient)
);
CREATE INDEX notices_by_time ON notices(sent_at);
