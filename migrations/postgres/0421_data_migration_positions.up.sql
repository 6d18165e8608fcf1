-- How far an unfinished `engram migrate-data` into this database got, one
-- row per archived table (issue 15): the org and key of the last row
-- copied, written in each batch's own transaction, so that a resumed copy
-- reads the source from there rather than from its first row. Cleared with
-- data_migration's mark (finish, rollback, a new migration). Operator
-- data, not a tenant's rows: no row-level security, like data_migration.
-- key_values is a JSON array of the key's text values (it may hold a user
-- id while the migration is unfinished).
CREATE TABLE data_migration_positions (
    table_name text   PRIMARY KEY,
    org_id     text   NOT NULL,
    key_values text   NOT NULL,
    dup        bigint NOT NULL,
    copied     bigint NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON data_migration_positions TO engram_app;
