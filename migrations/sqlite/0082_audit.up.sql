-- The audit trail of exports and erasures (issue 16): see
-- migrations/postgres/0082_audit.up.sql. Times are Unix nanoseconds.
CREATE TABLE audit_events (
    id           TEXT    PRIMARY KEY,
    org_id       TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    action       TEXT    NOT NULL,
    actor_hash   TEXT    NOT NULL DEFAULT '',
    subject_hash TEXT    NOT NULL DEFAULT '',
    org_wide     INTEGER NOT NULL DEFAULT 0 CHECK (org_wide IN (0, 1)),
    erasure_id   TEXT,
    counts       TEXT    NOT NULL DEFAULT '{}',
    outcome      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_org ON audit_events (org_id, id DESC);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
