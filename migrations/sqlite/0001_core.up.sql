-- Core tables of the embedded store: memories, their history, apps and the
-- access log. Times are Unix nanoseconds (INTEGER) so they round-trip exactly
-- and compare as numbers. JSON columns hold encoding/json output written by
-- sqlitestore alone; they carry no json_valid CHECK because parsing every
-- document again costs a tenth of batch ingest.

CREATE TABLE memories (
    id           TEXT    NOT NULL PRIMARY KEY, -- UUIDv7: sorts by creation time
    org_id       TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    app_id       TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    metadata     TEXT    NOT NULL DEFAULT '{}',
    categories   TEXT    NOT NULL DEFAULT '[]',
    state        TEXT    NOT NULL CHECK (state IN ('active', 'paused', 'archived', 'deleted')),
    content_hash TEXT    NOT NULL,
    -- An erased memory keeps its row as a tombstone (id, tenant, times) so
    -- that its history stays addressable; its content is blanked.
    erased       INTEGER NOT NULL DEFAULT 0 CHECK (erased IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Keyset pagination: WHERE org_id = ? AND user_id = ? AND id < ? ORDER BY id DESC.
CREATE INDEX memories_tenant_id ON memories (org_id, user_id, id);

-- Exact-duplicate detection among active memories of one user.
CREATE UNIQUE INDEX memories_active_hash ON memories (org_id, user_id, content_hash)
    WHERE state = 'active';

CREATE TABLE memory_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after deletes
    memory_id  TEXT    NOT NULL REFERENCES memories (id),
    org_id     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('add', 'update', 'state', 'delete', 'erase')),
    old_values TEXT,
    new_values TEXT,
    actor_app  TEXT    NOT NULL,
    changed_at INTEGER NOT NULL
);

CREATE INDEX memory_changes_memory ON memory_changes (memory_id, seq);

CREATE TABLE apps (
    org_id      TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, id)
) WITHOUT ROWID;

-- The latest access of each memory by each app: the "accessed by app" view
-- needs nothing older, and keeping one row per pair bounds the table.
CREATE TABLE memory_access (
    org_id      TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    app_id      TEXT    NOT NULL,
    memory_id   TEXT    NOT NULL REFERENCES memories (id),
    kind        TEXT    NOT NULL,
    accessed_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, app_id, memory_id)
) WITHOUT ROWID;

CREATE INDEX memory_access_recent ON memory_access (org_id, user_id, app_id, accessed_at, memory_id);
