-- The audit log screen filters by event type, user or computer over a period, newest first:
-- one index per filter, ordered by time (the rowid breaks ties), so a page of 50 entries of
-- 1,000,000 reads 50 index entries, and the lists of event types, users and computers are
-- read by skipping through an index rather than scanning the log.
CREATE INDEX audit_log_event ON audit_log(event, at);
CREATE INDEX audit_log_user ON audit_log(user, at);
CREATE INDEX audit_log_computer ON audit_log(computer, at);

-- A failed export run keeps why as a code and its values (JSON), so that the run log words it
-- in the reader's language; `error` stays the English wording.
ALTER TABLE export_runs ADD COLUMN error_code TEXT;
ALTER TABLE export_runs ADD COLUMN error_params TEXT;
