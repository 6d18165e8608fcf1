DROP FUNCTION engram_outbox_stats(text);
DROP FUNCTION engram_outbox_due_orgs(text, integer);
DROP TRIGGER memories_outbox_forget ON memories;
DROP FUNCTION engram_outbox_forget();
DROP TRIGGER memory_changes_outbox ON memory_changes;
DROP FUNCTION engram_outbox_record();
DROP TABLE index_outbox;
DROP TABLE index_outbox_targets;
