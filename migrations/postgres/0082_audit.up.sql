-- The audit trail of exports and erasures (issue 16). Append-only and free
-- of personal data: actor and subject are keyed HMAC hashes, counts are
-- numbers. Erasure never deletes from it, so it outlives what it records.
CREATE TABLE audit_events (
    id           uuid        PRIMARY KEY,
    org_id       text        NOT NULL,
    at           timestamptz NOT NULL,
    action       text        NOT NULL,
    actor_hash   text        NOT NULL DEFAULT '',
    subject_hash text        NOT NULL DEFAULT '',
    org_wide     boolean     NOT NULL DEFAULT false,
    erasure_id   uuid,
    counts       jsonb       NOT NULL DEFAULT '{}',
    outcome      text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_org_idx ON audit_events (org_id, id DESC);

CREATE FUNCTION engram_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION engram_audit_append_only();

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_events AS RESTRICTIVE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
-- Restrictive beside a permissive base, as migration 0051 made every
-- tenant table: a permissive policy added later cannot widen it.
CREATE POLICY tenant_base ON audit_events AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);

-- No UPDATE or DELETE for the runtime role, and the trigger refuses them
-- from anyone else.
GRANT SELECT, INSERT ON audit_events TO engram_app;
