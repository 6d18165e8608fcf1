-- Issue 18: asynchronous inference. request holds the conversation until
-- the event ends (then it is cleared); changes what it did.
CREATE TABLE inference_events (
    id            uuid        NOT NULL PRIMARY KEY,
    org_id        text        NOT NULL,
    user_id       text        NOT NULL,
    app_id        text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    request       jsonb       NOT NULL,
    changes       jsonb       NOT NULL DEFAULT '[]',
    error         text        NOT NULL DEFAULT '',
    attempts      integer     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    claimed_until timestamptz NOT NULL DEFAULT '-infinity'
);

CREATE INDEX inference_events_due ON inference_events (org_id, claimed_until, created_at) WHERE status = 'pending';
CREATE INDEX inference_events_tenant ON inference_events (org_id, user_id);

ALTER TABLE inference_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE inference_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON inference_events AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON inference_events AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT, INSERT, UPDATE, DELETE ON inference_events TO engram_app;

-- The worker runs as the runtime role, which sees no row across orgs: this
-- answers, without any content, which orgs have events due; the worker
-- then claims each org's events inside that org's row-level security.
CREATE FUNCTION engram_inference_due_orgs(p_limit integer) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT DISTINCT org_id FROM inference_events
    WHERE status = 'pending' AND claimed_until <= now()
    LIMIT p_limit
$$;
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION engram_inference_due_orgs(integer) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION engram_inference_due_orgs(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION engram_inference_due_orgs(integer) TO engram_app;
