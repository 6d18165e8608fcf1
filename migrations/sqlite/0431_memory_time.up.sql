-- Time (issue 18): when a memory was said (observed_at, Unix nanoseconds,
-- set on every row: created_at when the client gave none) and when its
-- fact held, [valid_from, valid_to), 0 for unbounded. Superseding a memory
-- closes its valid_to. Existing rows were observed when they were created.
-- The index serves a tenant's observed_at range filters (search's
-- observed_after/before and as_of).
ALTER TABLE memories ADD COLUMN observed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memories ADD COLUMN valid_from INTEGER NOT NULL DEFAULT 0;
ALTER TABLE memories ADD COLUMN valid_to INTEGER NOT NULL DEFAULT 0;
UPDATE memories SET observed_at = created_at;
CREATE INDEX memories_tenant_observed ON memories (org_id, user_id, observed_at);
