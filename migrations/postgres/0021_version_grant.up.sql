-- The runtime role reads the schema version at start (engramd checks it is
-- not older than the binary before serving), so it may SELECT golang-migrate's
-- bookkeeping table. Only SELECT: migrating stays the owner's job. The table
-- is looked up in the current schema; under a custom x-migrations-table name
-- it is not found and nothing is granted (then the runtime role cannot read
-- the version and engramd says so, naming `engram migrate up`).
DO $$
BEGIN
    IF to_regclass(format('%I.schema_migrations', current_schema())) IS NOT NULL THEN
        EXECUTE format('GRANT SELECT ON %I.schema_migrations TO engram_app', current_schema());
    END IF;
END $$;
