-- Dashboard sign-in sessions (adapters/dashboard), kept in the store so a
-- browser stays signed in across an engramd restart. id_hash is the
-- SHA-256 of the browser's cookie (never the cookie); the tokens are sealed
-- with the user's data key when encryption is on. Times are Unix
-- nanoseconds, 0 meaning unset.
CREATE TABLE ui_sessions (
    id_hash           TEXT    NOT NULL PRIMARY KEY,
    org_id            TEXT    NOT NULL,
    user_id           TEXT    NOT NULL,
    access_token      TEXT    NOT NULL,
    refresh_token     TEXT    NOT NULL,
    access_expires_at INTEGER NOT NULL,
    refresh_lease     INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL
);
CREATE INDEX ui_sessions_user ON ui_sessions (org_id, user_id, created_at);
