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

-- Row-level security as on every tenant table. Authentication must find a
-- key before any org is known, so a second, read-only policy shows the one
-- row whose hash the transaction names in engram.key_hash: a caller sees a
-- key only by presenting it (the hash of a 256-bit random key is as good as
-- the key). Permissive policies are OR-ed; writes still need the org.
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
CREATE POLICY key_lookup ON api_keys FOR SELECT
    USING (key_hash = NULLIF(current_setting('engram.key_hash', true), ''));

GRANT SELECT, INSERT, UPDATE ON api_keys TO engram_app;
