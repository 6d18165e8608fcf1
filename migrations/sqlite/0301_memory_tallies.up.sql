-- Issue 19: the dashboard's counts (per app and state, per category, per
-- UTC day of creation, memories each app accessed) come from this cached
-- aggregate instead of a scan of the tenant's memories on every page view.
-- Triggers keep it exact in the same transaction as every write to
-- memories and memory_access; a row that reaches zero is deleted (a
-- category's name does not outlive its last memory).
--
-- dim is 'app' (label: app id), 'category' (label: category), 'day'
-- (label: YYYY-MM-DD of created_at, UTC), each split by the memory's state,
-- or 'accessed' (label: app id, state ''): the memories the app read.
-- Erased memories are not counted; expired ones are until the sweeper
-- erases them (readers subtract those, found through memories_expiry).
CREATE TABLE memory_tallies (
    org_id  TEXT    NOT NULL,
    user_id TEXT    NOT NULL,
    dim     TEXT    NOT NULL CHECK (dim IN ('app', 'category', 'day', 'accessed')),
    label   TEXT    NOT NULL,
    state   TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, dim, label, state)
) WITHOUT ROWID;

-- The WHERE true clauses resolve SQLite's parsing ambiguity between a
-- join's ON and the upsert's ON CONFLICT.
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

CREATE TRIGGER memory_tallies_sub AFTER DELETE ON memories WHEN OLD.erased = 0
BEGIN
    UPDATE memory_tallies SET n = n - 1 WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'app' AND label = OLD.app_id AND state = OLD.state;
    UPDATE memory_tallies SET n = n - 1 WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'day'
        AND label = strftime('%Y-%m-%d', OLD.created_at / 1000000000, 'unixepoch') AND state = OLD.state;
    UPDATE memory_tallies SET n = n - 1 WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'category'
        AND label IN (SELECT value FROM json_each(OLD.categories)) AND state = OLD.state;
    DELETE FROM memory_tallies WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'app' AND label = OLD.app_id AND state = OLD.state AND n <= 0;
    DELETE FROM memory_tallies WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'day'
        AND label = strftime('%Y-%m-%d', OLD.created_at / 1000000000, 'unixepoch') AND state = OLD.state AND n <= 0;
    DELETE FROM memory_tallies WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'category'
        AND label IN (SELECT value FROM json_each(OLD.categories)) AND state = OLD.state AND n <= 0;
END;

-- An update moves the memory from its old keys to its new ones; one that
-- changes none of them (an edit of the text) does nothing.
CREATE TRIGGER memory_tallies_move AFTER UPDATE OF app_id, state, erased, categories, created_at ON memories
    WHEN (OLD.erased = 0 OR NEW.erased = 0) AND (OLD.erased <> NEW.erased OR OLD.app_id <> NEW.app_id OR OLD.state <> NEW.state
        OR OLD.categories <> NEW.categories OR OLD.created_at / 86400000000000 <> NEW.created_at / 86400000000000)
BEGIN
    UPDATE memory_tallies SET n = n - 1 WHERE OLD.erased = 0 AND org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'app' AND label = OLD.app_id AND state = OLD.state;
    UPDATE memory_tallies SET n = n - 1 WHERE OLD.erased = 0 AND org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'day'
        AND label = strftime('%Y-%m-%d', OLD.created_at / 1000000000, 'unixepoch') AND state = OLD.state;
    UPDATE memory_tallies SET n = n - 1 WHERE OLD.erased = 0 AND org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'category'
        AND label IN (SELECT value FROM json_each(OLD.categories)) AND state = OLD.state;
    INSERT INTO memory_tallies (org_id, user_id, dim, label, state, n)
    SELECT NEW.org_id, NEW.user_id, dim, label, NEW.state, 1 FROM (
        SELECT 'app' AS dim, NEW.app_id AS label
        UNION ALL SELECT 'day', strftime('%Y-%m-%d', NEW.created_at / 1000000000, 'unixepoch')
        UNION ALL SELECT 'category', value FROM json_each(NEW.categories)
    ) WHERE NEW.erased = 0
    ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = n + 1;
    DELETE FROM memory_tallies WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'app' AND label = OLD.app_id AND state = OLD.state AND n <= 0;
    DELETE FROM memory_tallies WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'day'
        AND label = strftime('%Y-%m-%d', OLD.created_at / 1000000000, 'unixepoch') AND state = OLD.state AND n <= 0;
    DELETE FROM memory_tallies WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'category'
        AND label IN (SELECT value FROM json_each(OLD.categories)) AND state = OLD.state AND n <= 0;
END;

-- RecordAccess upserts one row per (app, memory): only a first access
-- inserts (an upsert's update fires no INSERT trigger).
CREATE TRIGGER memory_access_tallies_add AFTER INSERT ON memory_access
BEGIN
    INSERT INTO memory_tallies (org_id, user_id, dim, label, state, n)
    VALUES (NEW.org_id, NEW.user_id, 'accessed', NEW.app_id, '', 1)
    ON CONFLICT (org_id, user_id, dim, label, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER memory_access_tallies_sub AFTER DELETE ON memory_access
BEGIN
    UPDATE memory_tallies SET n = n - 1
    WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'accessed' AND label = OLD.app_id AND state = '';
    DELETE FROM memory_tallies
    WHERE org_id = OLD.org_id AND user_id = OLD.user_id AND dim = 'accessed' AND label = OLD.app_id AND state = '' AND n <= 0;
END;

-- Backfill from the rows already stored.
INSERT INTO memory_tallies (org_id, user_id, dim, label, state, n)
SELECT org_id, user_id, dim, label, state, count(*) FROM (
    SELECT org_id, user_id, 'app' AS dim, app_id AS label, state FROM memories WHERE erased = 0
    UNION ALL SELECT org_id, user_id, 'day', strftime('%Y-%m-%d', created_at / 1000000000, 'unixepoch'), state FROM memories WHERE erased = 0
    UNION ALL SELECT m.org_id, m.user_id, 'category', c.value, m.state FROM memories m, json_each(m.categories) c WHERE m.erased = 0
    UNION ALL SELECT org_id, user_id, 'accessed', app_id, '' FROM memory_access
) GROUP BY 1, 2, 3, 4, 5;
