-- Changes past a target's pulled_seq are pulled before the trigger takes
-- over again, so none is lost.
INSERT INTO index_outbox (index_name, memory_id, org_id, user_id, version, enqueued_at)
SELECT t.name, c.memory_id, c.org_id, c.user_id, max(c.seq), max(min(c.changed_at), t.pulled_at)
FROM index_outbox_targets t JOIN memory_changes c ON c.seq > t.pulled_seq
WHERE true GROUP BY t.name, c.memory_id
ON CONFLICT (index_name, memory_id) DO UPDATE SET
    version = max(version, excluded.version),
    due_at = 0, attempts = 0, last_error = '', parked_at = 0;

ALTER TABLE index_outbox_targets DROP COLUMN pulled_at;
ALTER TABLE index_outbox_targets DROP COLUMN pulled_seq;

CREATE TRIGGER index_outbox_record AFTER INSERT ON memory_changes
BEGIN
    INSERT INTO index_outbox (index_name, memory_id, org_id, user_id, version, enqueued_at)
    SELECT name, NEW.memory_id, NEW.org_id, NEW.user_id, NEW.seq,
           CAST((julianday('now') - 2440587.5) * 86400000000000 AS INTEGER)
    FROM index_outbox_targets WHERE true
    ON CONFLICT (index_name, memory_id) DO UPDATE SET
        version     = max(version, excluded.version),
        enqueued_at = CASE WHEN parked_at <> 0 THEN excluded.enqueued_at ELSE enqueued_at END,
        due_at = 0, attempts = 0, last_error = '', parked_at = 0;
END;
