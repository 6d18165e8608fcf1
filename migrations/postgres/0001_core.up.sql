-- Core schema: memories, their history, apps and the access log, each
-- walled off per org by row-level security.

-- The runtime role. NOLOGIN: operators GRANT engram_app TO their login role.
-- Parallel migrations into different schemas may race on CREATE ROLE, so a
-- duplicate is swallowed rather than failing the migration.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'engram_app') THEN
        CREATE ROLE engram_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

CREATE TABLE memories (
    id           uuid        PRIMARY KEY,
    org_id       text        NOT NULL,
    user_id      text        NOT NULL,
    app_id       text        NOT NULL,
    text         text        NOT NULL,
    metadata     jsonb       NOT NULL DEFAULT '{}',
    categories   text[]      NOT NULL DEFAULT '{}',
    state        text        NOT NULL CHECK (state IN ('active', 'paused', 'archived', 'deleted')),
    content_hash text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    -- Set by erase: the content columns are blanked and the row is invisible
    -- to every read but history.
    erased_at    timestamptz
);

-- Lists scan a tenant's rows newest first; the id is a UUIDv7, so uuid's
-- byte order is creation order.
CREATE INDEX memories_tenant_id_idx ON memories (org_id, user_id, id DESC);
-- Exact-duplicate detection among active memories (INSERT ... ON CONFLICT).
CREATE UNIQUE INDEX memories_active_hash_idx ON memories (org_id, user_id, content_hash) WHERE state = 'active';
CREATE INDEX memories_categories_idx ON memories USING gin (categories);
CREATE INDEX memories_metadata_idx ON memories USING gin (metadata jsonb_path_ops);

-- memory_changes and memory_access carry no foreign key to memories: rows
-- are never deleted from memories (erase blanks them), the store writes a
-- memory and its history in one statement, and a per-row FK check would
-- halve batch ingest.
CREATE TABLE memory_changes (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id     text        NOT NULL,
    user_id    text        NOT NULL,
    memory_id  uuid        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('add', 'update', 'state', 'delete', 'erase')),
    old_values jsonb,
    new_values jsonb,
    actor_app  text        NOT NULL,
    changed_at timestamptz NOT NULL
);
CREATE INDEX memory_changes_memory_idx ON memory_changes (memory_id, seq);

CREATE TABLE apps (
    org_id      text        NOT NULL,
    user_id     text        NOT NULL,
    id          text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id, id)
);

-- One row per (app, memory): the latest time the app read it.
CREATE TABLE memory_access (
    org_id      text        NOT NULL,
    user_id     text        NOT NULL,
    app_id      text        NOT NULL,
    memory_id   uuid        NOT NULL,
    kind        text        NOT NULL,
    accessed_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id, app_id, memory_id)
);
CREATE INDEX memory_access_recent_idx ON memory_access (org_id, user_id, app_id, accessed_at DESC, memory_id DESC);

-- Row-level security. FORCE makes the policies bind the table owner too;
-- only superusers and BYPASSRLS roles escape them, and the runtime role is
-- neither. An unset engram.org_id reads as NULL through NULLIF, and
-- org_id = NULL is never true: no org set, no rows (fail closed).
ALTER TABLE memories ENABLE ROW LEVEL SECURITY;
ALTER TABLE memories FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memories
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE memory_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memory_changes
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE apps ENABLE ROW LEVEL SECURITY;
ALTER TABLE apps FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON apps
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE memory_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_access FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memory_access
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

-- DML only: the runtime role can neither alter the schema nor switch off
-- row-level security (only an owner can).
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO engram_app', current_schema());
END
$$;
GRANT SELECT, INSERT, UPDATE, DELETE ON memories, memory_changes, apps, memory_access TO engram_app;
