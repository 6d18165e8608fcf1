DROP TRIGGER index_outbox_forget;
DROP TRIGGER index_outbox_record;
DROP TABLE index_outbox;
DROP TABLE index_outbox_targets;
