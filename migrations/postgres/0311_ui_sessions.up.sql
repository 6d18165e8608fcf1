-- Dashboard sign-in sessions (adapters/dashboard), kept in the store so a
-- browser stays signed in across an engramd restart and across several
-- engramd processes behind one load balancer. id_hash is the SHA-256 of
-- the browser's cookie (the cookie itself is never stored); access_token
-- and refresh_token are sealed with the user's data key when encryption is
-- on (migration 0201), so an erasure crypto-shreds them with the rest.
CREATE TABLE ui_sessions (
    id_hash           text        PRIMARY KEY,
    org_id            text        NOT NULL,
    user_id           text        NOT NULL,
    access_token      text        NOT NULL,
    refresh_token     text        NOT NULL,
    access_expires_at timestamptz NOT NULL,
    refresh_lease     timestamptz,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL
);
CREATE INDEX ui_sessions_user_idx ON ui_sessions (org_id, user_id, created_at);

-- Row-level security in migration 0161's oauth_tokens shape: a session is
-- found by its cookie's hash before any org is known (the cookie is the
-- credential), so the restrictive policy also shows the one row whose hash
-- the transaction names in engram.token_hash, for reading only; every
-- write needs the org bound.
ALTER TABLE ui_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ui_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON ui_sessions AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON ui_sessions AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), '')
           OR id_hash = NULLIF(current_setting('engram.token_hash', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
CREATE POLICY tenant_isolation_update ON ui_sessions AS RESTRICTIVE FOR UPDATE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''));
CREATE POLICY tenant_isolation_delete ON ui_sessions AS RESTRICTIVE FOR DELETE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT, INSERT, UPDATE, DELETE ON ui_sessions TO engram_app;
