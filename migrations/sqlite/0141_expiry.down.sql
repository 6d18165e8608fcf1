DROP TABLE IF EXISTS retention_settings;
DROP INDEX IF EXISTS memories_expiry;
ALTER TABLE memories DROP COLUMN expires_at;
