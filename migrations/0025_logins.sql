-- Login hardening and users administration (issue 12).
-- A user whose password a manager reset must change it at the next login; the last login time
-- is shown to the manager.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login INTEGER;

-- Failed logins, per login typed and per client address (the HTTP peer, `local` for the
-- desktop window and the CLI): kept for the throttling window, so that every process on the
-- database (`releve serve`, the desktop) counts the same failures.
CREATE TABLE login_failures (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    login   TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX login_failures_login ON login_failures(login, at);
CREATE INDEX login_failures_address ON login_failures(address, at);

-- Logins and addresses locked after too many failures, until `until` (or a manager unlocks).
CREATE TABLE login_locks (
    kind     TEXT NOT NULL CHECK (kind IN ('login', 'address')),
    key      TEXT NOT NULL,
    until    INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    locked_at INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
