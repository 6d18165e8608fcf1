-- Crypto-shredding (issue 16, docs/privacy.md "Encryption at rest"): one
-- data key (DEK) per (org, user), stored only wrapped by the key-encryption
-- key, which lives outside the store. Memory text and history snapshots are
-- sealed with it; erasure deletes the row, and every copy of the sealed
-- values (an old archive, a dump, a base backup) can no longer be opened.
CREATE TABLE data_keys (
    org_id     text        NOT NULL,
    user_id    text        NOT NULL,
    kek_id     text        NOT NULL, -- the key-encryption key that wrapped it
    wrapped    bytea       NOT NULL, -- nonce ‖ AES-256-GCM(DEK) ‖ tag
    created_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

-- Row-level security in migration 0051's shape.
ALTER TABLE data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE data_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON data_keys AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON data_keys AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT, INSERT, UPDATE, DELETE ON data_keys TO engram_app;
