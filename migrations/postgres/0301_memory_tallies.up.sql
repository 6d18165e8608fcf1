-- Issue 19: the dashboard's counts (per app and state, per category, per
-- UTC day of creation, memories each app accessed) come from this cached
-- aggregate instead of a scan of the tenant's memories on every page view.
-- Triggers keep it exact in the same transaction as every write to
-- memories and memory_access (creation, state change, edit, erasure,
-- restore, retention); SECURITY DEFINER lets them write a table the runtime
-- role may only read, under the caller's engram.org_id and the table's
-- forced row-level security. Rows are upserted in key order so that
-- concurrent writers cannot deadlock, and a row that reaches zero is
-- deleted (a category's name does not outlive its last memory).
--
-- dim is 'app' (label: app id), 'category' (label: category), 'day'
-- (label: YYYY-MM-DD of created_at, UTC), each split by the memory's state,
-- or 'accessed' (label: app id, state ''): the memories the app read.
-- Erased memories are not counted; expired ones are until the sweeper
-- erases them (readers subtract those, found through memories_expiry_idx).
CREATE TABLE memory_tallies (
    org_id  text   NOT NULL,
    user_id text   NOT NULL,
    dim     text   NOT NULL CHECK (dim IN ('app', 'category', 'day', 'accessed')),
    label   text   NOT NULL,
    state   text   NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (org_id, user_id, dim, label, state)
);

-- The keys one memory is counted under.
CREATE FUNCTION engram_tally_keys(p_app text, p_state text, p_created timestamptz, p_categories text[])
RETURNS TABLE (dim text, label text, state text) LANGUAGE sql STABLE AS $$
    SELECT 'app', p_app, p_state
    UNION ALL SELECT 'day', to_char(p_created AT TIME ZONE 'UTC', 'YYYY-MM-DD'), p_state
    UNION ALL SELECT 'category', c, p_state FROM unnest(p_categories) c
$$;

-- An UPDATE that changes nothing counted (an edit of the text) sums to no
-- delta, so it writes nothing and takes no row lock.
CREATE FUNCTION engram_memory_tallies() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO memory_tallies AS t (org_id, user_id, dim, label, state, n)
        SELECT r.org_id, r.user_id, k.dim, k.label, k.state, count(*)
        FROM new_rows r, engram_tally_keys(r.app_id, r.state, r.created_at, r.categories) k
        WHERE r.erased_at IS NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = t.n + EXCLUDED.n;
        RETURN NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO memory_tallies AS t (org_id, user_id, dim, label, state, n)
        SELECT org_id, user_id, dim, label, state, sum(n) FROM (
            SELECT r.org_id, r.user_id, k.dim, k.label, k.state, 1 AS n
            FROM new_rows r, engram_tally_keys(r.app_id, r.state, r.created_at, r.categories) k WHERE r.erased_at IS NULL
            UNION ALL
            SELECT r.org_id, r.user_id, k.dim, k.label, k.state, -1
            FROM old_rows r, engram_tally_keys(r.app_id, r.state, r.created_at, r.categories) k WHERE r.erased_at IS NULL
        ) d GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = t.n + EXCLUDED.n;
    ELSE
        INSERT INTO memory_tallies AS t (org_id, user_id, dim, label, state, n)
        SELECT r.org_id, r.user_id, k.dim, k.label, k.state, -count(*)
        FROM old_rows r, engram_tally_keys(r.app_id, r.state, r.created_at, r.categories) k
        WHERE r.erased_at IS NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = t.n + EXCLUDED.n;
    END IF;
    DELETE FROM memory_tallies t USING (
        SELECT DISTINCT r.org_id, r.user_id, k.dim, k.label, k.state
        FROM old_rows r, engram_tally_keys(r.app_id, r.state, r.created_at, r.categories) k WHERE r.erased_at IS NULL) d
    WHERE t.org_id = d.org_id AND t.user_id = d.user_id AND t.dim = d.dim AND t.label = d.label AND t.state = d.state AND t.n <= 0;
    RETURN NULL;
END
$$;

-- RecordAccess upserts one row per (app, memory): only a first access
-- inserts (an ON CONFLICT update is not in the INSERT's transition table).
CREATE FUNCTION engram_memory_access_tallies() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO memory_tallies AS t (org_id, user_id, dim, label, state, n)
        SELECT org_id, user_id, 'accessed', app_id, '', count(*) FROM new_rows
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = t.n + EXCLUDED.n;
        RETURN NULL;
    END IF;
    INSERT INTO memory_tallies AS t (org_id, user_id, dim, label, state, n)
    SELECT org_id, user_id, 'accessed', app_id, '', -count(*) FROM old_rows
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = t.n + EXCLUDED.n;
    DELETE FROM memory_tallies t USING (SELECT DISTINCT org_id, user_id, app_id FROM old_rows) d
    WHERE t.org_id = d.org_id AND t.user_id = d.user_id AND t.dim = 'accessed' AND t.label = d.app_id AND t.state = '' AND t.n <= 0;
    RETURN NULL;
END
$$;
-- Pinned as every SECURITY DEFINER function is (migration 0051):
-- pg_catalog first, then this schema, pg_temp last.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION engram_memory_tallies() SET search_path = pg_catalog, %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION engram_memory_access_tallies() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION engram_memory_tallies() FROM PUBLIC;
REVOKE ALL ON FUNCTION engram_memory_access_tallies() FROM PUBLIC;

CREATE TRIGGER memories_tallies_insert AFTER INSERT ON memories
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION engram_memory_tallies();
CREATE TRIGGER memories_tallies_update AFTER UPDATE ON memories
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION engram_memory_tallies();
CREATE TRIGGER memories_tallies_delete AFTER DELETE ON memories
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION engram_memory_tallies();
CREATE TRIGGER memory_access_tallies_insert AFTER INSERT ON memory_access
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION engram_memory_access_tallies();
CREATE TRIGGER memory_access_tallies_delete AFTER DELETE ON memory_access
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION engram_memory_access_tallies();

-- Backfill from the rows already stored. Both source tables force
-- row-level security on their owner too; it is lifted for these
-- statements only, inside the migration's transaction.
ALTER TABLE memories NO FORCE ROW LEVEL SECURITY;
ALTER TABLE memory_access NO FORCE ROW LEVEL SECURITY;
INSERT INTO memory_tallies (org_id, user_id, dim, label, state, n)
SELECT org_id, user_id, dim, label, state, sum(n) FROM (
    SELECT r.org_id, r.user_id, k.dim, k.label, k.state, 1 AS n
    FROM memories r, engram_tally_keys(r.app_id, r.state, r.created_at, r.categories) k WHERE r.erased_at IS NULL
    UNION ALL SELECT org_id, user_id, 'accessed', app_id, '', 1 FROM memory_access
) x GROUP BY 1, 2, 3, 4, 5;
ALTER TABLE memories FORCE ROW LEVEL SECURITY;
ALTER TABLE memory_access FORCE ROW LEVEL SECURITY;

ALTER TABLE memory_tallies ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_tallies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON memory_tallies AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON memory_tallies AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT ON memory_tallies TO engram_app;
