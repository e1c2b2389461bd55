-- A removed (replaced) meter leaves every count: its ongoing info codes end when it is
-- removed (at removed_at, or at the code's last sighting when no removal time is known),
-- and its info-code mask is cleared. The trigger does it for every write that removes a
-- meter (exchange, customers-and-meters import); the statements below fix the meters
-- removed before this migration. Their events stay in their history (and the feed's
-- 'end' rows are written by the trigger info_code_feed_end).
CREATE TRIGGER meters_removed_close_codes
AFTER UPDATE OF status ON meters
WHEN new.status = 'removed' AND old.status <> 'removed' BEGIN
    UPDATE info_code_events
       SET ended_at = max(started_at, coalesce(new.removed_at, last_seen_at))
     WHERE meter_id = new.id AND ended_at IS NULL;
    UPDATE meters SET info_codes = 0 WHERE id = new.id AND info_codes <> 0;
END;

UPDATE info_code_events
   SET ended_at = max(started_at, coalesce((SELECT m.removed_at FROM meters m WHERE m.id = info_code_events.meter_id), last_seen_at))
 WHERE ended_at IS NULL
   AND meter_id IN (SELECT id FROM meters WHERE status = 'removed');
UPDATE meters SET info_codes = 0 WHERE status = 'removed' AND info_codes <> 0;
