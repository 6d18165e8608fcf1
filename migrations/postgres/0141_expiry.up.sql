-- Expiry and retention (issue 16). A memory's expires_at (NULL: never)
-- hides it from every read from that instant on; the sweeper then erases
-- it. retention_settings is each org's policy: periods in seconds (0 keeps
-- forever) and per-app default memory TTLs (app id to seconds).
ALTER TABLE memories ADD COLUMN expires_at timestamptz;
CREATE INDEX memories_expiry_idx ON memories (org_id, expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE retention_settings (
    org_id         text        PRIMARY KEY,
    access_log_ttl bigint      NOT NULL DEFAULT 0,
    query_log_ttl  bigint      NOT NULL DEFAULT 0,
    feedback_ttl   bigint      NOT NULL DEFAULT 0,
    app_ttls       jsonb       NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL
);

ALTER TABLE retention_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE retention_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON retention_settings AS RESTRICTIVE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
CREATE POLICY tenant_base ON retention_settings AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON retention_settings TO engram_app;
