-- API keys: only the SHA-256 of each key is stored. user_id is '' for a
-- project key, which acts for any user of its org named per request.
CREATE TABLE api_keys (
    id           uuid        PRIMARY KEY,
    org_id       text        NOT NULL,
    user_id      text        NOT NULL DEFAULT '',
    kind         text        NOT NULL CHECK (kind IN ('user', 'project')),
    name         text        NOT NULL DEFAULT '',
    scopes       text[]      NOT NULL,
    app_id       text        NOT NULL DEFAULT '',
    key_hash     text        NOT NULL,
    display      text        NOT NULL,
    created_by   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CHECK ((kind = 'user') = (user_id <> ''))
);
CREATE UNIQUE INDEX api_keys_hash_idx ON api_keys (key_hash);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, user_id, id DESC);

-- Row-level security as on every tenant table, in the shape migration 0051
-- gave them: a permissive base that admits every row, and one RESTRICTIVE
-- tenant_isolation policy ANDed with it, so a permissive policy added later
-- can never widen a tenant's view. Authentication must find a key before any
-- org is known, so the restrictive policy also shows the one row whose hash
-- the transaction names in engram.key_hash: a caller sees a key only by
-- presenting it (the hash of a 256-bit random key is as good as the key).
-- Knowing a hash grants no write: UPDATE and DELETE have restrictive
-- policies of their own that need the org, and new rows need it (WITH CHECK).
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON api_keys AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON api_keys AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), '')
           OR key_hash = NULLIF(current_setting('engram.key_hash', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
CREATE POLICY tenant_isolation_update ON api_keys AS RESTRICTIVE FOR UPDATE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''));
CREATE POLICY tenant_isolation_delete ON api_keys AS RESTRICTIVE FOR DELETE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT, INSERT, UPDATE ON api_keys TO engram_app;
