-- The info-code overview lists events that ended in the last 30 days apart from the
-- ongoing ones (those use info_code_events_open): index the end time of ended events.
CREATE INDEX info_code_events_ended ON info_code_events(ended_at) WHERE ended_at IS NOT NULL;
