-- Retrieval feedback, query logs and A/B experiments (issue 7). Times are
-- Unix nanoseconds, as in memories. Nothing here references memories with a
-- foreign key: feedback outlives an erased memory's content, and retention
-- deletes it on its own schedule.

-- Append-only: the trigger below refuses UPDATE; rows leave only through
-- retention (PurgeFeedback) and a user's erasure (EraseUserFeedback).
CREATE TABLE feedback_events (
    id            TEXT    PRIMARY KEY,
    org_id        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    query_id      TEXT    NOT NULL,
    memory_id     TEXT,
    app_id        TEXT    NOT NULL,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'ignored', 'edited')),
    rating        INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    experiment_id TEXT,
    variant       TEXT,
    latency_ms    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE INDEX feedback_events_org_time ON feedback_events (org_id, created_at DESC, id DESC);
CREATE INDEX feedback_events_query ON feedback_events (org_id, query_id);
CREATE INDEX feedback_events_user ON feedback_events (org_id, user_id, created_at);
CREATE INDEX feedback_events_experiment ON feedback_events (org_id, experiment_id) WHERE experiment_id IS NOT NULL;

CREATE TRIGGER feedback_events_append_only BEFORE UPDATE ON feedback_events
BEGIN
    SELECT RAISE(ABORT, 'feedback events are append-only');
END;

-- One row per search: feedback is accepted only for a query logged for the
-- same user, and tune-fusion replays these.
CREATE TABLE query_logs (
    id            TEXT    PRIMARY KEY,
    org_id        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    query         TEXT    NOT NULL,
    params        TEXT    NOT NULL CHECK (json_valid(params)),
    result_ids    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(result_ids)),
    experiment_id TEXT,
    variant       TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX query_logs_org_time ON query_logs (org_id, created_at, id);
CREATE INDEX query_logs_user ON query_logs (org_id, user_id);
CREATE INDEX query_logs_experiment ON query_logs (org_id, experiment_id, variant) WHERE experiment_id IS NOT NULL;

CREATE TABLE experiments (
    id          TEXT    PRIMARY KEY,
    org_id      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL CHECK (status IN ('draft', 'running', 'paused', 'completed', 'cancelled')),
    variants    TEXT    NOT NULL CHECK (json_valid(variants)),
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    started_at  INTEGER,
    ended_at    INTEGER
);
CREATE INDEX experiments_org_created ON experiments (org_id, created_at DESC, id DESC);
-- At most one running experiment per org: search needs one answer to "which
-- variant is this user in".
CREATE UNIQUE INDEX experiments_one_running ON experiments (org_id) WHERE status = 'running';

CREATE TABLE experiment_history (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id        TEXT    NOT NULL,
    experiment_id TEXT    NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    from_status   TEXT    NOT NULL DEFAULT '',
    to_status     TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    reason        TEXT    NOT NULL DEFAULT '',
    at            INTEGER NOT NULL
);
CREATE INDEX experiment_history_experiment ON experiment_history (experiment_id, seq);

-- Sticky assignments: the primary key makes the first exposure's variant the
-- only one a user ever gets.
CREATE TABLE experiment_assignments (
    org_id        TEXT    NOT NULL,
    experiment_id TEXT    NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    user_id       TEXT    NOT NULL,
    variant       TEXT    NOT NULL,
    assigned_at   INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, user_id)
);
CREATE INDEX experiment_assignments_user ON experiment_assignments (org_id, user_id);
