-- The meter list sorts customers by surname: a customer's name is one free text in
-- whatever order the utility's file had ("Céline Durand", "DURAND Céline", "Durand, Céline"),
-- so `sort_name` holds its sort key, surname first, folded (store::search::surname_key).
-- The store's customer writes (store::customers::insert/update, pseudonymize) set it; no
-- trigger, so that any SQLite connection may still write customers (cf. migration 0041).
-- The backfill below runs inside the store's migration, which registers releve_surname_key.
ALTER TABLE customers ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';

UPDATE customers SET sort_name = releve_surname_key(name);

CREATE INDEX customers_sort_name ON customers(sort_name);
