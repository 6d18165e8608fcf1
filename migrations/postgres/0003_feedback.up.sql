-- Retrieval feedback, query logs and A/B experiments (issue 7), each walled
-- off per org by row-level security exactly like 0001_core.

-- Append-only: engram_app is granted SELECT, INSERT and DELETE but no
-- UPDATE, and a trigger refuses UPDATE from anyone else. Rows leave only
-- through retention and a user's erasure.
CREATE TABLE feedback_events (
    id            uuid        PRIMARY KEY,
    org_id        text        NOT NULL,
    user_id       text        NOT NULL,
    query_id      uuid        NOT NULL,
    memory_id     uuid,
    app_id        text        NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'ignored', 'edited')),
    rating        smallint    CHECK (rating BETWEEN 1 AND 5),
    experiment_id uuid,
    variant       text,
    latency_ms    integer     NOT NULL DEFAULT 0 CHECK (latency_ms >= 0),
    created_at    timestamptz NOT NULL
);
-- Lists page an org newest first; metrics read the partial days at the edges
-- of a time range through it too.
CREATE INDEX feedback_events_org_time_idx ON feedback_events (org_id, created_at DESC, id DESC);
CREATE INDEX feedback_events_query_idx ON feedback_events (org_id, query_id);
CREATE INDEX feedback_events_user_idx ON feedback_events (org_id, user_id, created_at DESC);
CREATE INDEX feedback_events_experiment_idx ON feedback_events (org_id, experiment_id) WHERE experiment_id IS NOT NULL;

CREATE FUNCTION engram_feedback_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'feedback events are append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER feedback_events_append_only BEFORE UPDATE ON feedback_events
    FOR EACH ROW EXECUTE FUNCTION engram_feedback_append_only();

-- feedback_rollups counts events per UTC day, app, experiment, variant and
-- outcome, so that org-wide metrics over a million events read a few
-- thousand rows instead of scanning them all. Statement-level triggers keep
-- it exact in the same transaction as every insert and delete (retention,
-- erasure); SECURITY DEFINER lets them write a table the runtime role may
-- only read, and they still run under the caller's engram.org_id and the
-- table's forced row-level security. Rows are upserted in key order so that
-- concurrent writers cannot deadlock.
CREATE TABLE feedback_rollups (
    org_id        text        NOT NULL,
    day           timestamptz NOT NULL,
    app_id        text        NOT NULL,
    experiment_id text        NOT NULL DEFAULT '',
    variant       text        NOT NULL DEFAULT '',
    outcome       text        NOT NULL,
    events        bigint      NOT NULL,
    rating_sum    bigint      NOT NULL,
    rated         bigint      NOT NULL,
    PRIMARY KEY (org_id, day, app_id, experiment_id, variant, outcome)
);

CREATE FUNCTION engram_feedback_rollup_add() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO feedback_rollups AS r (org_id, day, app_id, experiment_id, variant, outcome, events, rating_sum, rated)
    SELECT org_id, date_trunc('day', created_at, 'UTC'), app_id, COALESCE(experiment_id::text, ''), COALESCE(variant, ''),
           outcome, count(*), COALESCE(sum(rating), 0), count(rating)
    FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (org_id, day, app_id, experiment_id, variant, outcome) DO UPDATE
        SET events = r.events + EXCLUDED.events, rating_sum = r.rating_sum + EXCLUDED.rating_sum, rated = r.rated + EXCLUDED.rated;
    RETURN NULL;
END
$$;

CREATE FUNCTION engram_feedback_rollup_sub() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE feedback_rollups r
       SET events = r.events - d.n, rating_sum = r.rating_sum - d.rsum, rated = r.rated - d.rated
      FROM (SELECT org_id, date_trunc('day', created_at, 'UTC') AS day, app_id, COALESCE(experiment_id::text, '') AS experiment_id,
                   COALESCE(variant, '') AS variant, outcome, count(*) AS n, COALESCE(sum(rating), 0) AS rsum, count(rating) AS rated
              FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6) d
     WHERE r.org_id = d.org_id AND r.day = d.day AND r.app_id = d.app_id AND r.experiment_id = d.experiment_id
       AND r.variant = d.variant AND r.outcome = d.outcome;
    DELETE FROM feedback_rollups WHERE events <= 0 AND org_id IN (SELECT DISTINCT org_id FROM old_rows);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION engram_feedback_rollup_add() FROM PUBLIC;
REVOKE ALL ON FUNCTION engram_feedback_rollup_sub() FROM PUBLIC;

CREATE TRIGGER feedback_events_rollup_add AFTER INSERT ON feedback_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_feedback_rollup_add();
CREATE TRIGGER feedback_events_rollup_sub AFTER DELETE ON feedback_events
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_feedback_rollup_sub();

-- One row per search; feedback is accepted only for a query logged for the
-- same user, and tune-fusion replays these.
CREATE TABLE query_logs (
    id            uuid        PRIMARY KEY,
    org_id        text        NOT NULL,
    user_id       text        NOT NULL,
    query         text        NOT NULL,
    params        jsonb       NOT NULL,
    result_ids    uuid[]      NOT NULL DEFAULT '{}',
    experiment_id uuid,
    variant       text,
    created_at    timestamptz NOT NULL
);
CREATE INDEX query_logs_org_time_idx ON query_logs (org_id, created_at, id);
CREATE INDEX query_logs_user_idx ON query_logs (org_id, user_id);
CREATE INDEX query_logs_experiment_idx ON query_logs (org_id, experiment_id, variant) WHERE experiment_id IS NOT NULL;

CREATE TABLE experiments (
    id          uuid        PRIMARY KEY,
    org_id      text        NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    status      text        NOT NULL CHECK (status IN ('draft', 'running', 'paused', 'completed', 'cancelled')),
    variants    jsonb       NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    started_at  timestamptz,
    ended_at    timestamptz
);
CREATE INDEX experiments_org_created_idx ON experiments (org_id, created_at DESC, id DESC);
-- At most one running experiment per org: search needs one answer to "which
-- variant is this user in".
CREATE UNIQUE INDEX experiments_one_running_idx ON experiments (org_id) WHERE status = 'running';

CREATE TABLE experiment_history (
    seq           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        text        NOT NULL,
    experiment_id uuid        NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    from_status   text        NOT NULL DEFAULT '',
    to_status     text        NOT NULL,
    actor         text        NOT NULL,
    reason        text        NOT NULL DEFAULT '',
    at            timestamptz NOT NULL
);
CREATE INDEX experiment_history_experiment_idx ON experiment_history (experiment_id, seq);

-- Sticky assignments: the primary key makes the first exposure's variant the
-- only one a user ever gets (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE experiment_assignments (
    org_id        text        NOT NULL,
    experiment_id uuid        NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    user_id       text        NOT NULL,
    variant       text        NOT NULL,
    assigned_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, experiment_id, user_id)
);
CREATE INDEX experiment_assignments_user_idx ON experiment_assignments (org_id, user_id);

-- Retention visits every org under its own engram.org_id; memory_orgs
-- (0002) is the org list the runtime role can read, so orgs that only have
-- feedback or query logs are noted there too.
CREATE TRIGGER feedback_events_note_orgs AFTER INSERT ON feedback_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_note_orgs();
CREATE TRIGGER query_logs_note_orgs AFTER INSERT ON query_logs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_note_orgs();

-- Row-level security, as in 0001_core: FORCE binds the owner too; an unset
-- engram.org_id reads as NULL and matches no row.
ALTER TABLE feedback_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE feedback_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON feedback_events
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE feedback_rollups ENABLE ROW LEVEL SECURITY;
ALTER TABLE feedback_rollups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON feedback_rollups
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE query_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE query_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON query_logs
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE experiments ENABLE ROW LEVEL SECURITY;
ALTER TABLE experiments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON experiments
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE experiment_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE experiment_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON experiment_history
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

ALTER TABLE experiment_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE experiment_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON experiment_assignments
    USING (org_id = NULLIF(current_setting('engram.org_id', true), ''))
    WITH CHECK (org_id = NULLIF(current_setting('engram.org_id', true), ''));

-- DML only; no UPDATE on the append-only tables.
GRANT SELECT, INSERT, DELETE ON feedback_events, query_logs, experiment_history TO engram_app;
GRANT SELECT ON feedback_rollups TO engram_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON experiments, experiment_assignments TO engram_app;
