-- Time (issue 18): when a memory was said (observed_at: created_at when
-- the client gave none) and when its fact held, [valid_from, valid_to),
-- NULL for unbounded. Superseding a memory closes its valid_to. Existing
-- rows were observed when they were created.
--
-- The backfill runs as the schema owner, whom FORCE ROW LEVEL SECURITY
-- binds too (no engram.org_id set: no rows), so FORCE is lifted for the
-- one UPDATE and restored in the same transaction; the runtime role is
-- never affected (it is not the owner). The tallies' statement trigger is
-- off for it: nothing it counts changes. BEGIN and COMMIT keep the file
-- one transaction even under x-multi-statement, which runs statements one
-- by one: FORCE can never stay lifted.
BEGIN;
ALTER TABLE memories ADD COLUMN observed_at timestamptz,
    ADD COLUMN valid_from timestamptz,
    ADD COLUMN valid_to timestamptz;
ALTER TABLE memories DISABLE TRIGGER memories_tallies_update;
ALTER TABLE memories NO FORCE ROW LEVEL SECURITY;
UPDATE memories SET observed_at = created_at;
ALTER TABLE memories FORCE ROW LEVEL SECURITY;
ALTER TABLE memories ENABLE TRIGGER memories_tallies_update;
ALTER TABLE memories ALTER COLUMN observed_at SET NOT NULL;
-- A tenant's observed_at range filters (search's observed_after/before
-- and as_of).
CREATE INDEX memories_tenant_observed_idx ON memories (org_id, user_id, observed_at);
COMMIT;
