-- Erasure jobs (issue 16): see migrations/postgres/0081_erasure.up.sql.
-- Times are Unix nanoseconds, as in memories.
CREATE TABLE erasure_jobs (
    id           TEXT    PRIMARY KEY,
    org_id       TEXT    NOT NULL,
    user_id      TEXT    NOT NULL DEFAULT '', -- blanked when done
    org_wide     INTEGER NOT NULL CHECK (org_wide IN (0, 1)),
    subject_hash TEXT    NOT NULL,
    requested_by TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'done')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE UNIQUE INDEX erasure_jobs_one_unfinished ON erasure_jobs (org_id, org_wide, subject_hash) WHERE status <> 'done';
CREATE INDEX erasure_jobs_unfinished ON erasure_jobs (created_at) WHERE status <> 'done';

CREATE TABLE erasure_counts (
    org_id     TEXT    NOT NULL,
    erasure_id TEXT    NOT NULL REFERENCES erasure_jobs (id) ON DELETE CASCADE,
    store      TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (erasure_id, store)
) WITHOUT ROWID;
