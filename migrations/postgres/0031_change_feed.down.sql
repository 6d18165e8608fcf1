DROP TRIGGER memory_changes_notify ON memory_changes;
DROP FUNCTION engram_notify_changes();
DROP INDEX memory_changes_org_seq_idx;
ALTER TABLE memory_changes DROP COLUMN origin;
