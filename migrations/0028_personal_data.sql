-- Personal data (issue 12). Who occupied the premises of a meter when: a move-out ends the
-- customer's occupancy at a date and a new occupant's starts there, the readings staying
-- with the meter. A meter whose customer has no row here has had that customer always.
CREATE TABLE occupancies (
    meter_id    INTEGER NOT NULL REFERENCES meters(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    from_ts     INTEGER NOT NULL,            -- first second of the occupancy
    to_ts       INTEGER,                     -- first second after it; NULL: ongoing
    PRIMARY KEY (meter_id, customer_id, from_ts)
) WITHOUT ROWID;
CREATE INDEX occupancies_customer ON occupancies(customer_id);

-- A customer who moved out keeps its number (the utility's contract key, for billing and
-- legal retention) but not its name, address, e-mail or phone: `pseudonym` holds a neutral
-- token ('former_occupant') the UI words ("Ancien occupant #12"), `moved_out_at` the date.
ALTER TABLE customers ADD COLUMN pseudonym TEXT;
ALTER TABLE customers ADD COLUMN moved_out_at INTEGER;

-- How long data is kept, for the register of processing (see core::personal::register).
INSERT OR IGNORE INTO settings(key, value) VALUES
    ('retention_readings_full_months', '13'),
    ('retention_readings_years', '10'),
    ('retention_audit_years', '10'),
    ('retention_telegrams_months', '13'),
    ('retention_former_customers_years', '10');
