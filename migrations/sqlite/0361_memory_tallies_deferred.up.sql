-- Issue 15: an archive import's bulk insert of memories counts its rows
-- into memory_tallies once per batch (adapters/sqlitestore/archive_tally.go)
-- instead of through memory_tallies_add's upserts on every row, which were
-- a sixth of the import's CPU. The import holds a row in
-- memory_tallies_deferred for the length of its insert statements, inside
-- its write transaction, and deletes it before committing: no other
-- transaction ever sees a row here (SQLite has one writer, and readers see
-- only committed data), so every other insert counts as before.
CREATE TABLE memory_tallies_deferred (
    one INTEGER NOT NULL PRIMARY KEY CHECK (one = 1)
);

DROP TRIGGER memory_tallies_add;
CREATE TRIGGER memory_tallies_add AFTER INSERT ON memories WHEN NEW.erased = 0 AND NOT EXISTS (SELECT 1 FROM memory_tallies_deferred)
BEGIN
    INSERT INTO memory_tallies (org_id, user_id, dim, label, state, n)
    SELECT NEW.org_id, NEW.user_id, dim, label, NEW.state, 1 FROM (
        SELECT 'app' AS dim, NEW.app_id AS label
        UNION ALL SELECT 'day', strftime('%Y-%m-%d', NEW.created_at / 1000000000, 'unixepoch')
        UNION ALL SELECT 'category', value FROM json_each(NEW.categories)
    ) WHERE true
    ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = n + 1;
END;
