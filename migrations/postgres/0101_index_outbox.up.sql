-- The durable index outbox (docs/architecture.md, "Index outbox and relay"):
-- what each external index (Qdrant, Elasticsearch) still has to apply,
-- written by triggers in the same transaction as every memory change, so a
-- crash at any point loses no index update.
--
-- index_outbox_targets names the indexes that get rows; engramd registers
-- the ones it is configured with. Index names only: no tenant data, no
-- row-level security.
CREATE TABLE index_outbox_targets (
    name          text        PRIMARY KEY,
    registered_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON index_outbox_targets TO engram_app;

-- One row per (index, memory): later changes to a memory before the relay
-- applies it raise the row's version instead of adding rows. Ids only, no
-- content: the relay reloads the memory inside its org's row-level
-- security.
CREATE TABLE index_outbox (
    index_name    text        NOT NULL,
    memory_id     uuid        NOT NULL,
    org_id        text        NOT NULL,
    user_id       text        NOT NULL,
    version       bigint      NOT NULL, -- seq of the latest change recorded
    enqueued_at   timestamptz NOT NULL, -- when the oldest unapplied change was recorded
    due_at        timestamptz NOT NULL DEFAULT '-infinity',
    claimed_until timestamptz NOT NULL DEFAULT '-infinity',
    attempts      integer     NOT NULL DEFAULT 0,
    last_error    text        NOT NULL DEFAULT '',
    parked_at     timestamptz,
    PRIMARY KEY (index_name, memory_id)
);
-- No secondary index: the table holds only what the relays have not
-- applied yet (normally next to nothing), and an index would cost every
-- write (a fifth of batch ingest with one).

ALTER TABLE index_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE index_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_base ON index_outbox AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
CREATE POLICY tenant_isolation ON index_outbox AS RESTRICTIVE FOR ALL
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));
GRANT SELECT, INSERT, UPDATE, DELETE ON index_outbox TO engram_app;

-- Every statement that records changes: a row per registered index and
-- memory at the statement's latest seq (one statement may change a memory
-- twice; ON CONFLICT may touch a row once). A change to a parked memory
-- re-arms it; a claimed row keeps its claim (the relay's Ack sees the new
-- version and releases it instead of deleting it). Runs as the writer,
-- inside its org's row-level security.
CREATE FUNCTION engram_outbox_record() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO index_outbox (index_name, memory_id, org_id, user_id, version, enqueued_at)
    SELECT t.name, c.memory_id, c.org_id, c.user_id, c.seq, clock_timestamp()
    FROM (SELECT DISTINCT ON (memory_id) memory_id, org_id, user_id, seq FROM new_rows ORDER BY memory_id, seq DESC) c
    CROSS JOIN index_outbox_targets t
    ON CONFLICT (index_name, memory_id) DO UPDATE SET
        version     = GREATEST(index_outbox.version, excluded.version),
        enqueued_at = CASE WHEN index_outbox.parked_at IS NULL THEN index_outbox.enqueued_at ELSE excluded.enqueued_at END,
        due_at = '-infinity', attempts = 0, last_error = '', parked_at = NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER memory_changes_outbox AFTER INSERT ON memory_changes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_outbox_record();

-- A memory row deleted outright (subject erasure) leaves no change row: its
-- outbox row is (re-)armed above any version a relay holds, so the next
-- application finds the memory gone and removes it from the index.
CREATE FUNCTION engram_outbox_forget() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO index_outbox (index_name, memory_id, org_id, user_id, version, enqueued_at)
    SELECT t.name, d.id, d.org_id, d.user_id,
           coalesce(pg_sequence_last_value(pg_get_serial_sequence('memory_changes', 'seq')::regclass), 0) + 1, clock_timestamp()
    FROM old_rows d CROSS JOIN index_outbox_targets t
    ON CONFLICT (index_name, memory_id) DO UPDATE SET
        version = GREATEST(index_outbox.version + 1, excluded.version),
        due_at = '-infinity', attempts = 0, last_error = '', parked_at = NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER memories_outbox_forget AFTER DELETE ON memories
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_outbox_forget();

-- The relay runs as the runtime role, which sees no row across orgs: these
-- two answer, without any content, which orgs have rows due for an index
-- and the index's totals (backlog, oldest, parked). The relay then claims
-- each org's rows inside that org's row-level security.
CREATE FUNCTION engram_outbox_due_orgs(p_index text, p_limit integer) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT DISTINCT org_id FROM index_outbox
    WHERE index_name = p_index AND parked_at IS NULL AND due_at <= now() AND claimed_until <= now()
    LIMIT p_limit
$$;
CREATE FUNCTION engram_outbox_stats(p_index text, OUT backlog bigint, OUT oldest timestamptz, OUT parked bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT count(*) FILTER (WHERE parked_at IS NULL), min(enqueued_at) FILTER (WHERE parked_at IS NULL),
           count(*) FILTER (WHERE parked_at IS NOT NULL)
    FROM index_outbox WHERE index_name = p_index
$$;
DO $$
BEGIN
    -- Pinned to this schema, as migration 0051 does for every SECURITY
    -- DEFINER function.
    EXECUTE format('ALTER FUNCTION engram_outbox_due_orgs(text, integer) SET search_path = pg_catalog, %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION engram_outbox_stats(text) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;
REVOKE ALL ON FUNCTION engram_outbox_due_orgs(text, integer), engram_outbox_stats(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION engram_outbox_due_orgs(text, integer), engram_outbox_stats(text) TO engram_app;
