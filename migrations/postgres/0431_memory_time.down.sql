DROP INDEX IF EXISTS memories_tenant_observed_idx;
ALTER TABLE memories DROP COLUMN IF EXISTS valid_to,
    DROP COLUMN IF EXISTS valid_from,
    DROP COLUMN IF EXISTS observed_at;
