-- 0042: the import journal. Each import's lines dated in the future are counted apart
-- (`future`, also among `rejected`), and each kept rejected line keeps its original text
-- (`raw`, at most 1,000 characters; the first 1,000 rejected lines of an import are kept,
-- the counts are exact), so the journal can give them back as a CSV file.
ALTER TABLE imports ADD COLUMN future INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_rejects ADD COLUMN raw TEXT;
CREATE INDEX imports_started ON imports(started_at);
