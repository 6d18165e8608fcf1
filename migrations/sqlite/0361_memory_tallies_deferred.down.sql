DROP TRIGGER memory_tallies_add;
CREATE TRIGGER memory_tallies_add AFTER INSERT ON memories WHEN NEW.erased = 0
BEGIN
    INSERT INTO memory_tallies (org_id, user_id, dim, label, state, n)
    SELECT NEW.org_id, NEW.user_id, dim, label, NEW.state, 1 FROM (
        SELECT 'app' AS dim, NEW.app_id AS label
        UNION ALL SELECT 'day', strftime('%Y-%m-%d', NEW.created_at / 1000000000, 'unixepoch')
        UNION ALL SELECT 'category', value FROM json_each(NEW.categories)
    ) WHERE true
    ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = n + 1;
END;

DROP TABLE memory_tallies_deferred;
