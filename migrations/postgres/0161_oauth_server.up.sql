-- The built-in authorization server (docs/security.md): registered clients,
-- users who can sign in, and grants (token families) with their single-use
-- codes and refresh tokens. Secrets are stored as hashes only.

-- Clients are not tenant data: anyone may register one (RFC 7591), and a
-- client is bound to no org until a user grants it access.
CREATE TABLE oauth_clients (
    client_id     text        PRIMARY KEY,
    client_name   text        NOT NULL DEFAULT '',
    redirect_uris text[]      NOT NULL,
    created_at    timestamptz NOT NULL
);
GRANT SELECT, INSERT ON oauth_clients TO engram_app;

CREATE TABLE oauth_users (
    org_id          text        NOT NULL,
    user_id         text        NOT NULL,
    password_hash   text        NOT NULL DEFAULT '',
    code_hash       text        NOT NULL DEFAULT '',
    code_expires_at timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE oauth_grants (
    id             uuid        PRIMARY KEY,
    org_id         text        NOT NULL,
    user_id        text        NOT NULL,
    client_id      text        NOT NULL,
    scopes         text[]      NOT NULL,
    redirect_uri   text        NOT NULL,
    code_challenge text        NOT NULL,
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);
CREATE INDEX oauth_grants_user_idx ON oauth_grants (org_id, user_id, id DESC);

CREATE TABLE oauth_tokens (
    token_hash text        PRIMARY KEY,
    org_id     text        NOT NULL,
    grant_id   uuid        NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind       text        NOT NULL CHECK (kind IN ('code', 'refresh')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX oauth_tokens_grant_idx ON oauth_tokens (grant_id);

-- Row-level security in migration 0051's shape. oauth_tokens is found by
-- its hash before any org is known (the token is the credential), as
-- api_keys is: the restrictive policy also shows the one row whose hash the
-- transaction names in engram.token_hash, for reading only.
ALTER TABLE oauth_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON oauth_users AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON oauth_users AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE oauth_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON oauth_grants AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON oauth_grants AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE oauth_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON oauth_tokens AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON oauth_tokens AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), '')
           OR token_hash = NULLIF(current_setting('engram.token_hash', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
CREATE POLICY tenant_isolation_update ON oauth_tokens AS RESTRICTIVE FOR UPDATE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''));
CREATE POLICY tenant_isolation_delete ON oauth_tokens AS RESTRICTIVE FOR DELETE
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_users, oauth_grants, oauth_tokens TO engram_app;
