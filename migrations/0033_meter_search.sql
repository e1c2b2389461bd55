-- The meter search (store::search): a meter's serial, manufacturer, address, postal code,
-- city and its customer's name and number, in lower case without accents
-- (releve_fold, a function the store registers on its connections), so a search is
-- accent-, case- and order-insensitive: one `instr` per word over this column.
-- Kept up to date by the triggers below, whichever store function writes.
ALTER TABLE meters ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE meters SET search_text = releve_fold(
    serial || ' ' || manufacturer || ' ' || address || ' ' || postal_code || ' ' || city || ' ' ||
    coalesce((SELECT c.name || ' ' || c.number FROM customers c WHERE c.id = meters.customer_id), ''));

CREATE TRIGGER meters_search_insert AFTER INSERT ON meters BEGIN
    UPDATE meters SET search_text = releve_fold(
        new.serial || ' ' || new.manufacturer || ' ' || new.address || ' ' || new.postal_code || ' ' || new.city || ' ' ||
        coalesce((SELECT c.name || ' ' || c.number FROM customers c WHERE c.id = new.customer_id), ''))
    WHERE id = new.id;
END;

CREATE TRIGGER meters_search_update
AFTER UPDATE OF serial, manufacturer, address, postal_code, city, customer_id ON meters BEGIN
    UPDATE meters SET search_text = releve_fold(
        new.serial || ' ' || new.manufacturer || ' ' || new.address || ' ' || new.postal_code || ' ' || new.city || ' ' ||
        coalesce((SELECT c.name || ' ' || c.number FROM customers c WHERE c.id = new.customer_id), ''))
    WHERE id = new.id;
END;

CREATE TRIGGER customers_search_update AFTER UPDATE OF name, number ON customers BEGIN
    UPDATE meters SET search_text = releve_fold(
        serial || ' ' || manufacturer || ' ' || address || ' ' || postal_code || ' ' || city || ' ' ||
        new.name || ' ' || new.number)
    WHERE customer_id = new.id;
END;
