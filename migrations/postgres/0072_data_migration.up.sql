-- The mark of an unfinished `engram migrate-data` into this database
-- (issue 15): engramd refuses to start while the row exists. At most one
-- row. Not tenant data (a description of the source and a time), so it has
-- no row-level security, like memory_orgs.
CREATE TABLE data_migration (
    id         integer     PRIMARY KEY CHECK (id = 1),
    source     text        NOT NULL,
    started_at timestamptz NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON data_migration TO engram_app;
