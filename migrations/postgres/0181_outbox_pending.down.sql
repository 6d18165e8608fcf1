-- Pending rows are moved into index_outbox first (as the relay's claim
-- would), so none is lost. Row-level security applies to the table owner
-- (FORCE): run the down migration as a role that bypasses it (the
-- superuser), or `engram reindex` after it.
INSERT INTO index_outbox (index_name, memory_id, org_id, user_id, version, enqueued_at)
SELECT t.name, p.memory_id, p.org_id, p.user_id, p.version, p.enqueued_at
FROM (SELECT memory_id, min(org_id) AS org_id, min(user_id) AS user_id, max(version) AS version, min(enqueued_at) AS enqueued_at
      FROM index_outbox_pending GROUP BY memory_id) p
CROSS JOIN index_outbox_targets t
ORDER BY t.name, p.memory_id
ON CONFLICT (index_name, memory_id) DO UPDATE SET
    version = GREATEST(index_outbox.version, excluded.version),
    due_at = '-infinity', attempts = 0, last_error = '', parked_at = NULL;

CREATE OR REPLACE FUNCTION engram_outbox_record() RETURNS trigger
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

CREATE OR REPLACE FUNCTION engram_outbox_due_orgs(p_index text, p_limit integer) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT DISTINCT org_id FROM index_outbox
    WHERE index_name = p_index AND parked_at IS NULL AND due_at <= now() AND claimed_until <= now()
    LIMIT p_limit
$$;
CREATE OR REPLACE FUNCTION engram_outbox_stats(p_index text, OUT backlog bigint, OUT oldest timestamptz, OUT parked bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT count(*) FILTER (WHERE parked_at IS NULL), min(enqueued_at) FILTER (WHERE parked_at IS NULL),
           count(*) FILTER (WHERE parked_at IS NOT NULL)
    FROM index_outbox WHERE index_name = p_index
$$;
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION engram_outbox_due_orgs(text, integer) SET search_path = pg_catalog, %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION engram_outbox_stats(text) SET search_path = pg_catalog, %I, pg_temp', current_schema());
END
$$;

DROP TABLE index_outbox_pending;
