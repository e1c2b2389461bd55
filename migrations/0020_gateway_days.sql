-- 0020: a gateway's frames counted per local day as they are stored, instead of counting
-- its receptions through an index on (gateway, time): one upsert per gateway and day per
-- committed slice costs the ingest far less than one more index entry per reception.
CREATE TABLE gateway_days (
    gateway_id INTEGER NOT NULL,
    day        INTEGER NOT NULL, -- the local date (setting `timezone`) as YYYYMMDD
    frames     INTEGER NOT NULL,
    PRIMARY KEY (gateway_id, day)
) WITHOUT ROWID;
-- Receptions stored before this (UTC dates: the time zone is not known here).
INSERT INTO gateway_days(gateway_id, day, frames)
    SELECT gateway_id, CAST(strftime('%Y%m%d', received_at, 'unixepoch') AS INTEGER), count(*)
    FROM receptions GROUP BY 1, 2;
DROP INDEX receptions_gateway;
