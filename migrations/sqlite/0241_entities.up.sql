-- Entities and the memory graph (issue 18, docs/entities.md). Scoped to a
-- tenant (org, user) like memories. An entity lives while a memory links
-- to it; erasure of a subject deletes every row of these tables.
CREATE TABLE entities (
    org_id     TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    id         TEXT    NOT NULL, -- UUIDv7
    name       TEXT    NOT NULL, -- as shown (from a memory's text, or a rename)
    type       TEXT    NOT NULL, -- person, organisation, place, product, event, date, other
    memories   INTEGER NOT NULL DEFAULT 0, -- how many memories link to it
    created_at INTEGER NOT NULL, -- Unix nanoseconds
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, id)
) WITHOUT ROWID;
CREATE INDEX entities_by_rank ON entities (org_id, user_id, memories DESC, id DESC);

-- Every name an entity answers to (its name included), by key.
CREATE TABLE entity_aliases (
    org_id    TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    alias_key TEXT NOT NULL, -- domain.EntityKey(alias)
    entity_id TEXT NOT NULL,
    alias     TEXT NOT NULL, -- as written
    PRIMARY KEY (org_id, user_id, alias_key)
) WITHOUT ROWID;
CREATE INDEX entity_aliases_by_entity ON entity_aliases (org_id, user_id, entity_id);

-- Which memory names which entity.
CREATE TABLE entity_links (
    org_id    TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    memory_id TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id, entity_id, memory_id)
) WITHOUT ROWID;
CREATE INDEX entity_links_by_memory ON entity_links (org_id, user_id, memory_id);

-- Co-occurrence: weight = memories naming both; one row per direction.
CREATE TABLE entity_edges (
    org_id  TEXT    NOT NULL,
    user_id TEXT    NOT NULL,
    from_id TEXT    NOT NULL,
    to_id   TEXT    NOT NULL,
    weight  INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, from_id, to_id)
) WITHOUT ROWID;
CREATE INDEX entity_edges_by_weight ON entity_edges (org_id, user_id, from_id, weight DESC, to_id);
