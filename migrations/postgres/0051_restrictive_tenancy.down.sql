-- Back to permissive tenant policies and search paths taken from the
-- migration's own (what 0001-0003 did).
DO $$
DECLARE
    fn  regprocedure;
    pol record;
    stmt text;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace AND p.prosecdef
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path FROM CURRENT', fn);
    END LOOP;

    FOR pol IN
        SELECT tablename, cmd AS kind, qual, with_check FROM pg_policies
        WHERE schemaname = current_schema() AND policyname = 'tenant_isolation' AND permissive = 'RESTRICTIVE'
    LOOP
        stmt := format('CREATE POLICY tenant_isolation ON %I AS PERMISSIVE FOR %s', pol.tablename, pol.kind);
        IF pol.qual IS NOT NULL THEN
            stmt := stmt || format(' USING (%s)', pol.qual);
        END IF;
        IF pol.with_check IS NOT NULL THEN
            stmt := stmt || format(' WITH CHECK (%s)', pol.with_check);
        END IF;
        EXECUTE format('DROP POLICY tenant_isolation ON %I', pol.tablename);
        EXECUTE format('DROP POLICY IF EXISTS tenant_base ON %I', pol.tablename);
        EXECUTE stmt;
    END LOOP;
END
$$;
