-- Issue 18: a memory that inference superseded points to its successor.
-- One row per superseded memory; no content, only the link. Erasing or
-- deleting either memory removes the link (triggers), so subject erasure,
-- retention and single erasure need no code of their own for it.
CREATE TABLE memory_supersessions (
    memory_id     uuid        NOT NULL PRIMARY KEY,
    org_id        text        NOT NULL,
    user_id       text        NOT NULL,
    successor_id  uuid        NOT NULL,
    superseded_at timestamptz NOT NULL
);

CREATE INDEX memory_supersessions_successor ON memory_supersessions (successor_id);
CREATE INDEX memory_supersessions_tenant ON memory_supersessions (org_id, user_id);

-- Row-level security in migration 0051's shape.
ALTER TABLE memory_supersessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_supersessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON memory_supersessions AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON memory_supersessions AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

GRANT SELECT, INSERT, DELETE ON memory_supersessions TO engram_app;

-- Runs as the caller, under its row-level security: the memory's org is
-- the transaction's.
CREATE FUNCTION engram_supersessions_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM memory_supersessions
     WHERE org_id = OLD.org_id AND (memory_id = OLD.id OR successor_id = OLD.id);
    RETURN NULL;
END $$;

CREATE TRIGGER memory_supersessions_gone AFTER DELETE ON memories
    FOR EACH ROW EXECUTE FUNCTION engram_supersessions_forget();
CREATE TRIGGER memory_supersessions_erased AFTER UPDATE OF erased_at ON memories
    FOR EACH ROW WHEN (NEW.erased_at IS NOT NULL AND OLD.erased_at IS NULL) EXECUTE FUNCTION engram_supersessions_forget();
