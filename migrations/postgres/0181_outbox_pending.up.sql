-- The index outbox's write cost (docs/architecture.md, "Index outbox and
-- relay"): the statement trigger on memory_changes wrote an upserted row per
-- registered index and memory (two with Qdrant and Elasticsearch), a fifth of
-- a 1,000-memory batch's time. It now appends one plain row per change to
-- index_outbox_pending, a heap with no index or key: nothing to probe, no
-- conflict between writers. Each relay's claim moves an org's pending rows
-- into index_outbox (one row per index and memory, coalesced to the latest
-- version) in the transaction that claims, so the per-index rows, and what
-- claims, acks, failures and parking do with them, are unchanged.
--
-- memory_changes itself cannot serve as the log here: its seq is handed out
-- when a row is inserted, not when it commits, so a reader may see seq 11
-- before seq 10 commits (SQLite's single writer has no such gap, and there
-- the relay reads memory_changes directly: migration 0181 for SQLite).
CREATE TABLE index_outbox_pending (
    memory_id   uuid        NOT NULL,
    org_id      text        NOT NULL,
    user_id     text        NOT NULL,
    version     bigint      NOT NULL, -- seq of the change
    enqueued_at timestamptz NOT NULL
);

ALTER TABLE index_outbox_pending ENABLE ROW LEVEL SECURITY;
ALTER TABLE index_outbox_pending FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON index_outbox_pending AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON index_outbox_pending AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
-- UPDATE for the claim's SELECT ... FOR UPDATE (rows are never updated).
GRANT SELECT, INSERT, UPDATE, DELETE ON index_outbox_pending TO engram_app;

-- Every statement that records changes appends its rows, when any index is
-- registered. Runs as the writer, inside its org's row-level security.
CREATE OR REPLACE FUNCTION engram_outbox_record() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM index_outbox_targets) THEN
        INSERT INTO index_outbox_pending (memory_id, org_id, user_id, version, enqueued_at)
        SELECT memory_id, org_id, user_id, seq, clock_timestamp() FROM new_rows;
    END IF;
    RETURN NULL;
END
$$;

-- Rows already in index_outbox: an org with pending rows has work for
-- every index.
CREATE OR REPLACE FUNCTION engram_outbox_due_orgs(p_index text, p_limit integer) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT org_id FROM (
        SELECT org_id FROM index_outbox_pending
        UNION
        SELECT org_id FROM index_outbox
        WHERE index_name = p_index AND parked_at IS NULL AND due_at <= now() AND claimed_until <= now()
    ) o
    LIMIT p_limit
$$;

-- Pending rows count as the rows a claim would make of them (a change to a
-- parked memory re-arms it).
CREATE OR REPLACE FUNCTION engram_outbox_stats(p_index text, OUT backlog bigint, OUT oldest timestamptz, OUT parked bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    WITH fresh AS (
        SELECT memory_id, min(enqueued_at) AS at FROM index_outbox_pending
        WHERE EXISTS (SELECT 1 FROM index_outbox_targets WHERE name = p_index)
        GROUP BY memory_id
    )
    SELECT
        (SELECT count(*) FROM index_outbox WHERE index_name = p_index AND parked_at IS NULL)
        + (SELECT count(*) FROM fresh f WHERE NOT EXISTS (SELECT 1 FROM index_outbox o
            WHERE o.index_name = p_index AND o.memory_id = f.memory_id AND o.parked_at IS NULL)),
        LEAST((SELECT min(enqueued_at) FROM index_outbox WHERE index_name = p_index AND parked_at IS NULL),
              (SELECT min(at) FROM fresh)),
        (SELECT count(*) FROM index_outbox o WHERE o.index_name = p_index AND o.parked_at IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.memory_id = o.memory_id))
$$;
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION engram_outbox_due_orgs(text, integer) SET search_path = pg_catalog, %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION engram_outbox_stats(text) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;
