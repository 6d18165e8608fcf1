-- Hardening (issue 12).
--
-- 1. SECURITY DEFINER functions run with the owner's rights; with
--    `SET search_path FROM CURRENT` they kept whatever path the migration
--    ran with ("$user", public by default), so an object another role could
--    create in an earlier schema would be resolved first. Pin every one to
--    pg_catalog, this schema and pg_temp last (the order PostgreSQL's manual
--    recommends for SECURITY DEFINER).
--
-- 2. Tenant policies become RESTRICTIVE, each beside a PERMISSIVE base
--    policy that admits every row. The effect today is the same, but a
--    permissive policy added later (a reporting role, a debugging grant)
--    can no longer widen a tenant's view: restrictive policies are ANDed
--    with whatever the permissive ones allow.
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
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp', fn, current_schema());
    END LOOP;

    FOR pol IN
        SELECT tablename, cmd AS kind, qual, with_check FROM pg_policies
        WHERE schemaname = current_schema() AND policyname = 'tenant_isolation' AND permissive = 'PERMISSIVE'
    LOOP
        stmt := format('CREATE POLICY tenant_isolation ON %I AS RESTRICTIVE FOR %s', pol.tablename, pol.kind);
        IF pol.qual IS NOT NULL THEN
            stmt := stmt || format(' USING (%s)', pol.qual);
        END IF;
        IF pol.with_check IS NOT NULL THEN
            stmt := stmt || format(' WITH CHECK (%s)', pol.with_check);
        END IF;
        EXECUTE format('DROP POLICY tenant_isolation ON %I', pol.tablename);
        EXECUTE stmt;
        EXECUTE format('CREATE POLICY tenant_base ON %I AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true)', pol.tablename);
    END LOOP;
END
$$;
