-- The built-in authorization server (docs/security.md): registered clients,
-- users who can sign in, and grants (token families) with their single-use
-- codes and refresh tokens. Secrets are stored as hashes only. Times are
-- Unix nanoseconds, 0 meaning unset; lists are JSON arrays written by
-- sqlitestore.
CREATE TABLE oauth_clients (
    client_id     TEXT    NOT NULL PRIMARY KEY,
    client_name   TEXT    NOT NULL DEFAULT '',
    redirect_uris TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE oauth_users (
    org_id          TEXT    NOT NULL,
    user_id         TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL DEFAULT '',
    code_hash       TEXT    NOT NULL DEFAULT '',
    code_expires_at INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE oauth_grants (
    id             TEXT    NOT NULL PRIMARY KEY,
    org_id         TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    client_id      TEXT    NOT NULL,
    scopes         TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX oauth_grants_user ON oauth_grants (org_id, user_id, id);

CREATE TABLE oauth_tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    org_id     TEXT    NOT NULL,
    grant_id   TEXT    NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('code', 'refresh')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
