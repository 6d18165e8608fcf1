-- Full-text search of memories (issue 4). memory_search is an index, not a
-- record: the index maintainer writes it after the store commits, and
-- `engram reindex` rebuilds it from memories.

-- unaccent is a trusted extension (PostgreSQL 13+): a database owner may
-- create it. It lives in public so that every schema's configurations can
-- use it; concurrent migrations racing on it swallow the duplicate.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

-- Text search configurations that fold accents before the usual
-- dictionaries: engram_simple (no stemming, no stop words: any language) and
-- engram_english (Snowball stemming and stop words).
CREATE TEXT SEARCH CONFIGURATION engram_simple (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION engram_simple
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, pg_catalog.simple;
CREATE TEXT SEARCH CONFIGURATION engram_english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION engram_english
    ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, pg_catalog.english_stem;

CREATE TABLE memory_search (
    org_id     text        NOT NULL,
    user_id    text        NOT NULL,
    memory_id  uuid        NOT NULL,
    app_id     text        NOT NULL,
    -- SHA-256 of the indexed text, compared with memories.content_hash to
    -- find entries that lag the store (TextIndex.Drift)
    content_hash text      NOT NULL DEFAULT '',
    categories text[]      NOT NULL DEFAULT '{}',
    metadata   jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    tsv        tsvector    NOT NULL,
    PRIMARY KEY (org_id, user_id, memory_id)
);
-- Stored tsvector under GIN: a word's posting list is read once per query.
-- fastupdate off: with it on, fresh entries wait in an unsorted pending list
-- that every search scans linearly until (auto)vacuum merges it — after a
-- bulk import that made searches several times slower. Inserts pay instead.
CREATE INDEX memory_search_tsv_idx ON memory_search USING gin (tsv) WITH (fastupdate = off);

ALTER TABLE memory_search ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_search FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON memory_search
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT, INSERT, UPDATE, DELETE ON memory_search TO engram_app;

-- memory_orgs lists every org that has stored a memory, so that index
-- rebuilds (`engram reindex`, loading the in-process vector index at start)
-- can visit each org under its own engram.org_id: the runtime role sees no
-- row of memories across orgs. It holds org ids only, no content, and has no
-- row-level security. A statement-level trigger keeps it current at one
-- INSERT per statement; SECURITY DEFINER lets it write a table the runtime
-- role may only read.
CREATE TABLE memory_orgs (
    org_id text PRIMARY KEY
);

CREATE FUNCTION engram_note_orgs() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO memory_orgs (org_id) SELECT DISTINCT org_id FROM new_rows ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION engram_note_orgs() FROM PUBLIC;

CREATE TRIGGER memories_note_orgs AFTER INSERT ON memories
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_note_orgs();

GRANT SELECT ON memory_orgs TO engram_app;
