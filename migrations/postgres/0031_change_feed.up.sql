-- The change feed (docs/search.md, "Several processes on one store"): every
-- serving process follows the committed changes in memory_changes into its
-- in-process vector index.
--
-- origin names the process that wrote a change (a random id per store, set
-- with engram.origin in each transaction's prologue), so a process can skip
-- the changes it indexed itself. NULL for rows written before this migration
-- or by tools that set none.
ALTER TABLE memory_changes ADD COLUMN origin text DEFAULT NULLIF(current_setting('engram.origin', true), '');

-- Catch-up after a lost listener connection reads each org's changes after a
-- seq.
CREATE INDEX memory_changes_org_seq_idx ON memory_changes (org_id, seq);

-- Each statement that records changes NOTIFYs them on this schema's channel,
-- at commit, in commit order, in chunks well under NOTIFY's 8000-byte
-- payload limit. The payload names ids only (seq, org, user, memory, origin);
-- readers reload the memory inside its org's row-level security. The channel
-- is per schema (schemas share a database's channels) and short (channel
-- names are identifiers of at most 63 bytes).
CREATE FUNCTION engram_notify_changes() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    chunk record;
BEGIN
    FOR chunk IN
        SELECT json_agg(json_build_array(seq, org_id, user_id, memory_id, origin) ORDER BY seq)::text AS payload
        FROM (SELECT seq, org_id, user_id, memory_id, origin, (row_number() OVER (ORDER BY seq) - 1) / 25 AS g
              FROM new_rows) numbered
        GROUP BY g ORDER BY g
    LOOP
        PERFORM pg_notify('engram_changes_' || left(md5(current_schema()), 16), chunk.payload);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER memory_changes_notify AFTER INSERT ON memory_changes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_notify_changes();

-- A follower starts after the latest seq handed out (Head), read from the
-- identity sequence: the runtime role sees no row of memory_changes across
-- orgs.
GRANT SELECT ON SEQUENCE memory_changes_seq_seq TO engram_app;
