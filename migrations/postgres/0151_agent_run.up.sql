-- mem0's agent and run scopes beside the user: '' means none. Exact
-- duplicates are now detected within one (user, agent, run), so the same
-- text remembered by two agents stays two memories, as in mem0. The table's
-- row-level security (migration 0051) covers the new columns unchanged.
ALTER TABLE memories ADD COLUMN agent_id text NOT NULL DEFAULT '';
ALTER TABLE memories ADD COLUMN run_id text NOT NULL DEFAULT '';

DROP INDEX memories_active_hash_idx;
CREATE UNIQUE INDEX memories_active_hash_idx ON memories (org_id, user_id, agent_id, run_id, content_hash)
    WHERE state = 'active';

-- Lists filtered by one agent or run page by id inside it.
CREATE INDEX memories_agent_id_idx ON memories (org_id, user_id, agent_id, id DESC) WHERE agent_id <> '';
CREATE INDEX memories_run_id_idx ON memories (org_id, user_id, run_id, id DESC) WHERE run_id <> '';
