-- The meter list sorts customers by surname: a customer's name is one free text in
-- whatever order the utility's file had ("Céline Durand", "DURAND Céline", "Durand, Céline"),
-- so `sort_name` holds its sort key, surname first, folded (releve_surname_key, a function
-- the store registers on its connections, see store::search::surname_key), kept up to date
-- by the triggers below whichever store function writes, and indexed.
ALTER TABLE customers ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';

UPDATE customers SET sort_name = releve_surname_key(name);

CREATE TRIGGER customers_sort_name_insert AFTER INSERT ON customers BEGIN
    UPDATE customers SET sort_name = releve_surname_key(new.name) WHERE id = new.id;
END;

CREATE TRIGGER customers_sort_name_update AFTER UPDATE OF name ON customers BEGIN
    UPDATE customers SET sort_name = releve_surname_key(new.name) WHERE id = new.id;
END;

CREATE INDEX customers_sort_name ON customers(sort_name);
