DROP TABLE IF EXISTS retention_settings;
DROP INDEX IF EXISTS memories_expiry_idx;
ALTER TABLE memories DROP COLUMN IF EXISTS expires_at;
