-- API keys: only the SHA-256 of each key is stored. user_id is '' for a
-- project key. Times are Unix nanoseconds, 0 meaning unset; scopes are a
-- JSON array written by sqlitestore.
CREATE TABLE api_keys (
    id           TEXT    NOT NULL PRIMARY KEY,
    org_id       TEXT    NOT NULL,
    user_id      TEXT    NOT NULL DEFAULT '',
    kind         TEXT    NOT NULL CHECK (kind IN ('user', 'project')),
    name         TEXT    NOT NULL DEFAULT '',
    scopes       TEXT    NOT NULL,
    app_id       TEXT    NOT NULL DEFAULT '',
    key_hash     TEXT    NOT NULL,
    display      TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL DEFAULT 0,
    last_used_at INTEGER NOT NULL DEFAULT 0,
    revoked_at   INTEGER NOT NULL DEFAULT 0,
    CHECK ((kind = 'user') = (user_id <> ''))
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);
CREATE INDEX api_keys_org ON api_keys (org_id, user_id, id);
