-- How far an unfinished `engram migrate-data` into this store got, one row
-- per archived table (issue 15): the org and key of the last row copied,
-- written in each batch's own transaction, so that a resumed copy reads
-- the source from there rather than from its first row. Cleared with
-- data_migration's mark (finish, rollback, a new migration). key_values
-- is a JSON array of the key's text values.
CREATE TABLE data_migration_positions (
    table_name TEXT    PRIMARY KEY,
    org_id     TEXT    NOT NULL,
    key_values TEXT    NOT NULL,
    dup        INTEGER NOT NULL,
    copied     INTEGER NOT NULL
);
