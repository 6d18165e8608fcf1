DO $$
BEGIN
    IF to_regclass(format('%I.schema_migrations', current_schema())) IS NOT NULL THEN
        EXECUTE format('REVOKE SELECT ON %I.schema_migrations FROM engram_app', current_schema());
    END IF;
END $$;
