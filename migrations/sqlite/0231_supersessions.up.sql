-- Issue 18: a memory that inference superseded points to its successor.
-- One row per superseded memory; no content, only the link. Erasing or
-- deleting either memory removes the link (triggers), so subject erasure,
-- retention and single erasure need no code of their own for it.
CREATE TABLE memory_supersessions (
    memory_id     TEXT    NOT NULL PRIMARY KEY,
    org_id        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    successor_id  TEXT    NOT NULL,
    superseded_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX memory_supersessions_successor ON memory_supersessions (successor_id);
CREATE INDEX memory_supersessions_tenant ON memory_supersessions (org_id, user_id);

CREATE TRIGGER memory_supersessions_gone AFTER DELETE ON memories BEGIN
    DELETE FROM memory_supersessions WHERE memory_id = OLD.id OR successor_id = OLD.id;
END;

CREATE TRIGGER memory_supersessions_erased AFTER UPDATE OF erased ON memories WHEN NEW.erased = 1 BEGIN
    DELETE FROM memory_supersessions WHERE memory_id = NEW.id OR successor_id = NEW.id;
END;
