-- 0037: handling of alarms (info-code events, issue 15). A clerk acknowledges an event,
-- assigns it to a colleague (a user's login) and comments on it ("client appelé le ...").
-- The handling lives on the event's row and the comments are keyed by the event, so an
-- ended (closed) alarm keeps its history; retention's delete of an old ended event takes
-- its comments with it (trigger below).
ALTER TABLE info_code_events ADD COLUMN ack_at INTEGER;
ALTER TABLE info_code_events ADD COLUMN ack_by TEXT;
ALTER TABLE info_code_events ADD COLUMN assigned_to TEXT;

CREATE TABLE alarm_comments (
    id         INTEGER PRIMARY KEY,
    meter_id   INTEGER NOT NULL,
    code       TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX alarm_comments_of ON alarm_comments(meter_id, code, started_at, id);

-- The overview's filters on a park of 1,000,000 meters: the handled events are few and
-- each filter walks its own partial index; "not acknowledged" is most of the open events
-- (the open index). Open events by start serve "started today" and the newest-first order.
CREATE INDEX info_code_events_assigned ON info_code_events(assigned_to, started_at) WHERE assigned_to IS NOT NULL;
CREATE INDEX info_code_events_acked ON info_code_events(started_at) WHERE ack_at IS NOT NULL;
CREATE INDEX info_code_events_open_started ON info_code_events(started_at) WHERE ended_at IS NULL;

CREATE TRIGGER info_code_events_delete_comments AFTER DELETE ON info_code_events BEGIN
    DELETE FROM alarm_comments
     WHERE meter_id = old.meter_id AND code = old.code AND started_at = old.started_at;
END;
