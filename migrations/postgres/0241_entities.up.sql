-- Entities and the memory graph (issue 18, docs/entities.md). Scoped to a
-- tenant (org, user) like memories. An entity lives while a memory links
-- to it; erasure of a subject deletes every row of these tables.
CREATE TABLE entities (
    org_id     text        NOT NULL,
    user_id    text        NOT NULL,
    id         uuid        NOT NULL,
    name       text        NOT NULL, -- as shown (from a memory's text, or a rename)
    type       text        NOT NULL, -- person, organisation, place, product, event, date, other
    memories   integer     NOT NULL DEFAULT 0, -- how many memories link to it
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id, id)
);
CREATE INDEX entities_by_rank ON entities (org_id, user_id, memories DESC, id DESC);

-- Every name an entity answers to (its name included), by key. "C"
-- collation: keys are compared bytewise, so prefix ranges are exact.
CREATE TABLE entity_aliases (
    org_id    text NOT NULL,
    user_id   text NOT NULL,
    alias_key text COLLATE "C" NOT NULL, -- domain.EntityKey(alias)
    entity_id uuid NOT NULL,
    alias     text NOT NULL, -- as written
    PRIMARY KEY (org_id, user_id, alias_key)
);
CREATE INDEX entity_aliases_by_entity ON entity_aliases (org_id, user_id, entity_id);

-- Which memory names which entity.
CREATE TABLE entity_links (
    org_id    text NOT NULL,
    user_id   text NOT NULL,
    entity_id uuid NOT NULL,
    memory_id uuid NOT NULL,
    PRIMARY KEY (org_id, user_id, entity_id, memory_id)
);
CREATE INDEX entity_links_by_memory ON entity_links (org_id, user_id, memory_id);

-- Co-occurrence: weight = memories naming both; one row per direction.
CREATE TABLE entity_edges (
    org_id  text    NOT NULL,
    user_id text    NOT NULL,
    from_id uuid    NOT NULL,
    to_id   uuid    NOT NULL,
    weight  integer NOT NULL,
    PRIMARY KEY (org_id, user_id, from_id, to_id)
);
CREATE INDEX entity_edges_by_weight ON entity_edges (org_id, user_id, from_id, weight DESC, to_id);

-- Row-level security in migration 0051's shape, on each table.
ALTER TABLE entities ENABLE ROW LEVEL SECURITY;
ALTER TABLE entities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON entities AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON entities AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE entity_aliases ENABLE ROW LEVEL SECURITY;
ALTER TABLE entity_aliases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON entity_aliases AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON entity_aliases AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE entity_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE entity_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON entity_links AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON entity_links AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE entity_edges ENABLE ROW LEVEL SECURITY;
ALTER TABLE entity_edges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON entity_edges AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON entity_edges AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT, INSERT, UPDATE, DELETE ON entities, entity_aliases, entity_links, entity_edges TO engram_app;
