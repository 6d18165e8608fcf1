-- The durable index outbox (docs/architecture.md, "Index outbox and relay"):
-- what each external index (Qdrant, Elasticsearch) still has to apply,
-- written by triggers in the same transaction as every memory change, so a
-- crash at any point loses no index update.
--
-- index_outbox_targets names the indexes that get rows; engramd registers
-- the ones it is configured with. Without any, a change costs one empty
-- lookup.
CREATE TABLE index_outbox_targets (
    name          TEXT    NOT NULL PRIMARY KEY,
    registered_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per (index, memory): later changes to a memory before the relay
-- applies it raise the row's version instead of adding rows. Ids only, no
-- content: the relay reloads the memory from the store. Times are Unix
-- nanoseconds, 0 meaning unset.
CREATE TABLE index_outbox (
    index_name    TEXT    NOT NULL,
    memory_id     TEXT    NOT NULL,
    org_id        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    version       INTEGER NOT NULL, -- seq of the latest change recorded
    enqueued_at   INTEGER NOT NULL, -- when the oldest unapplied change was recorded
    due_at        INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    parked_at     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (index_name, memory_id)
) WITHOUT ROWID;
-- No secondary index: the table holds only what the relay has not applied
-- yet (normally next to nothing), and every index b-tree is one more page
-- each write transaction puts in the WAL.

-- Every memory change: a row per registered index. A change to a parked
-- memory re-arms it (the new version may be one the index accepts). A row
-- claimed by a relay keeps its claim: the relay's Ack sees the new version
-- and releases the row instead of deleting it.
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

-- A memory row deleted outright (subject erasure) leaves no change row to
-- record it, and a relay may be applying it at that moment: the row is
-- (re-)armed above any version a relay holds, so the next application finds
-- the memory gone and removes it from the index.
CREATE TRIGGER index_outbox_forget AFTER DELETE ON memories
BEGIN
    INSERT INTO index_outbox (index_name, memory_id, org_id, user_id, version, enqueued_at)
    SELECT name, OLD.id, OLD.org_id, OLD.user_id,
           coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'memory_changes'), 0) + 1,
           CAST((julianday('now') - 2440587.5) * 86400000000000 AS INTEGER)
    FROM index_outbox_targets WHERE true
    ON CONFLICT (index_name, memory_id) DO UPDATE SET
        version = max(version + 1, excluded.version),
        due_at = 0, attempts = 0, last_error = '', parked_at = 0;
END;
