-- Record layouts of compact frames (CI 79) learned from full frames, by format signature,
-- so that compact frames in later files decode too.
CREATE TABLE compact_formats (
    signature  INTEGER PRIMARY KEY,
    layout     BLOB NOT NULL,
    learned_at INTEGER NOT NULL
);
