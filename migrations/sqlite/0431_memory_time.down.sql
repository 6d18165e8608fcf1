DROP INDEX IF EXISTS memories_tenant_observed;
ALTER TABLE memories DROP COLUMN valid_to;
ALTER TABLE memories DROP COLUMN valid_from;
ALTER TABLE memories DROP COLUMN observed_at;
