-- The mark of an unfinished `engram migrate-data` into this store (issue
-- 15): engramd refuses to start while the row exists. At most one row.
CREATE TABLE data_migration (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    source     TEXT    NOT NULL,
    started_at INTEGER NOT NULL
);
