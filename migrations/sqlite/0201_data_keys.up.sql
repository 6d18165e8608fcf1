-- Crypto-shredding (issue 16, docs/privacy.md "Encryption at rest"): one
-- data key (DEK) per (org, user), stored only wrapped by the key-encryption
-- key, which lives outside the store. Memory text and history snapshots are
-- sealed with it; erasure deletes the row, and every copy of the sealed
-- values (an old archive, a file copy) can no longer be opened.
CREATE TABLE data_keys (
    org_id     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    kek_id     TEXT    NOT NULL, -- the key-encryption key that wrapped it
    wrapped    BLOB    NOT NULL, -- nonce ‖ AES-256-GCM(DEK) ‖ tag
    created_at INTEGER NOT NULL, -- Unix nanoseconds
    PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
