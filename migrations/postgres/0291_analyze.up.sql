-- A restore fills tables from empty faster than autovacuum's statistics
-- follow. Without statistics the planner gives every equality the same
-- default selectivity, so a load guard's probe by key looked no better than
-- row-level security's org_id predicate, and a 100k-memory restore read the
-- whole org for each probe until it hit the statement timeout (pgstore's
-- archive_analyze.go). The store analyses a table as it grows; ANALYZE needs
-- the owner, and engramd's documented login role is not it, so the runtime
-- role asks this function, which may analyse only this schema's tables.
CREATE FUNCTION engram_analyze(p_table text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    -- This function's own schema: search_path below puts pg_catalog first,
    -- so current_schema() would name pg_catalog.
    v_schema text := (SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                      WHERE p.oid = 'engram_analyze(text)'::regprocedure);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relname = p_table AND n.nspname = v_schema AND c.relkind IN ('r', 'p')) THEN
        RAISE EXCEPTION 'engram_analyze: no table % in schema %', p_table, v_schema USING ERRCODE = '42P01';
    END IF;
    EXECUTE format('ANALYZE %I.%I', v_schema, p_table);
END
$$;
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION engram_analyze(text) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION engram_analyze(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION engram_analyze(text) TO engram_app;
