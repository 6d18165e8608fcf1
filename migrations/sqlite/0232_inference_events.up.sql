-- Issue 18: asynchronous inference. request holds the conversation until
-- the event ends (then it is cleared); changes what it did.
CREATE TABLE inference_events (
    id            TEXT    NOT NULL PRIMARY KEY,
    org_id        TEXT    NOT NULL,
    user_id       TEXT    NOT NULL,
    app_id        TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    request       TEXT    NOT NULL,
    changes       TEXT    NOT NULL DEFAULT '[]',
    error         TEXT    NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE INDEX inference_events_due ON inference_events (claimed_until, created_at) WHERE status = 'pending';
CREATE INDEX inference_events_tenant ON inference_events (org_id, user_id);
