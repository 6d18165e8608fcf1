-- mem0's agent and run scopes beside the user: '' means none. Exact
-- duplicates are now detected within one (user, agent, run), so the same
-- text remembered by two agents stays two memories, as in mem0.
ALTER TABLE memories ADD COLUMN agent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE memories ADD COLUMN run_id TEXT NOT NULL DEFAULT '';

DROP INDEX memories_active_hash;
CREATE UNIQUE INDEX memories_active_hash ON memories (org_id, user_id, agent_id, run_id, content_hash)
    WHERE state = 'active';

-- Lists filtered by one agent or run page by id inside it.
CREATE INDEX memories_agent_id ON memories (org_id, user_id, agent_id, id) WHERE agent_id <> '';
CREATE INDEX memories_run_id ON memories (org_id, user_id, run_id, id) WHERE run_id <> '';
