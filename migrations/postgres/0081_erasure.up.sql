-- Erasure jobs (issue 16). A job is the record of an asynchronous, resumable
-- erasure of one user or of a whole org: it holds the subject's user id only
-- while it is unfinished (the worker needs it) and a keyed hash of it for
-- good, with per-store counts.
CREATE TABLE erasure_jobs (
    id           uuid        PRIMARY KEY,
    org_id       text        NOT NULL,
    user_id      text        NOT NULL DEFAULT '', -- blanked when done
    org_wide     boolean     NOT NULL,
    subject_hash text        NOT NULL,
    requested_by text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('pending', 'running', 'done')),
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    finished_at  timestamptz
);
-- At most one unfinished job per subject: a second request joins the first
-- (INSERT ... ON CONFLICT DO NOTHING, then read the holder).
CREATE UNIQUE INDEX erasure_jobs_one_unfinished_idx ON erasure_jobs (org_id, org_wide, subject_hash) WHERE status <> 'done';

-- Counts per store, added to by whichever server runs a step, so that two
-- servers working one job never lose a count.
CREATE TABLE erasure_counts (
    org_id     text   NOT NULL,
    erasure_id uuid   NOT NULL REFERENCES erasure_jobs (id) ON DELETE CASCADE,
    store      text   NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (erasure_id, store)
);

-- erasure_queue lets the worker find unfinished jobs of every org: the
-- runtime role sees no row of erasure_jobs across orgs. It holds job and
-- org ids only, no personal data, and has no row-level security, like
-- memory_orgs. Triggers keep it in step with erasure_jobs.
CREATE TABLE erasure_queue (
    erasure_id uuid PRIMARY KEY,
    org_id     text NOT NULL
);

CREATE FUNCTION engram_erasure_queue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    IF NEW.status = 'done' THEN
        DELETE FROM erasure_queue WHERE erasure_id = NEW.id;
    ELSE
        INSERT INTO erasure_queue (erasure_id, org_id) VALUES (NEW.id, NEW.org_id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION engram_erasure_queue() FROM PUBLIC;
-- Pinned as migration 0051 pins every SECURITY DEFINER function.
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION engram_erasure_queue() SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;
CREATE TRIGGER erasure_jobs_queue AFTER INSERT OR UPDATE OF status ON erasure_jobs
    FOR EACH ROW EXECUTE FUNCTION engram_erasure_queue();

ALTER TABLE erasure_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE erasure_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON erasure_jobs AS RESTRICTIVE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
-- Restrictive beside a permissive base, as migration 0051 made every
-- tenant table: a permissive policy added later cannot widen it.
CREATE POLICY tenant_base ON erasure_jobs AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);

ALTER TABLE erasure_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE erasure_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON erasure_counts AS RESTRICTIVE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
-- Restrictive beside a permissive base, as migration 0051 made every
-- tenant table: a permissive policy added later cannot widen it.
CREATE POLICY tenant_base ON erasure_counts AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);

GRANT SELECT, INSERT, UPDATE ON erasure_jobs TO engram_app;
GRANT SELECT, INSERT, UPDATE ON erasure_counts TO engram_app;
GRANT SELECT ON erasure_queue TO engram_app;
