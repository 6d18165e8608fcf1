-- The index outbox costs a write nothing (docs/architecture.md, "Index
-- outbox and relay"): memory_changes is already written in the same
-- transaction as every change, and SQLite's single writer hands out its seq
-- in commit order, so it is the outbox's log. Each relay pulls the changes
-- past its index's pulled_seq into index_outbox (one row per memory,
-- coalesced) in the same transaction that moves pulled_seq on, then claims
-- from index_outbox as before. The per-index rows the trigger wrote (two
-- upserts per change with two indexes, a fifth of a single write's latency)
-- are gone from the write path.
--
-- The forget trigger stays: an erasure deletes a memory's change rows, so
-- it must arm the memory's outbox rows itself.
DROP TRIGGER index_outbox_record;

-- pulled_seq: the memory_changes seq up to which changes are in
-- index_outbox for this index; pulled_at: when the last pull ran (Unix
-- nanoseconds), a lower bound on the time any later change was recorded.
ALTER TABLE index_outbox_targets ADD COLUMN pulled_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE index_outbox_targets ADD COLUMN pulled_at INTEGER NOT NULL DEFAULT 0;

-- Every change so far was recorded by the trigger.
UPDATE index_outbox_targets SET
    pulled_seq = coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'memory_changes'), 0),
    pulled_at  = CAST((julianday('now') - 2440587.5) * 86400000000000 AS INTEGER);
