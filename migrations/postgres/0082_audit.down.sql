DROP TABLE IF EXISTS audit_events;
DROP FUNCTION IF EXISTS engram_audit_append_only();
