-- Expiry and retention (issue 16). A memory's expires_at is Unix
-- nanoseconds, 0 for never: reads skip a memory from that instant on and
-- the sweeper erases it. retention_settings is each org's policy: periods
-- in seconds (0 keeps forever) and per-app default memory TTLs as a JSON
-- object of app id to seconds.
ALTER TABLE memories ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX memories_expiry ON memories (org_id, expires_at) WHERE expires_at <> 0;

CREATE TABLE retention_settings (
    org_id         TEXT    NOT NULL PRIMARY KEY,
    access_log_ttl INTEGER NOT NULL DEFAULT 0,
    query_log_ttl  INTEGER NOT NULL DEFAULT 0,
    feedback_ttl   INTEGER NOT NULL DEFAULT 0,
    app_ttls       TEXT    NOT NULL DEFAULT '{}',
    updated_at     INTEGER NOT NULL
) WITHOUT ROWID;
