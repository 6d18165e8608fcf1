DROP INDEX memories_run_id_idx;
DROP INDEX memories_agent_id_idx;
DROP INDEX memories_active_hash_idx;
-- Fails when two active memories of a user share a text under different
-- agents or runs: merge or delete them first.
CREATE UNIQUE INDEX memories_active_hash_idx ON memories (org_id, user_id, content_hash) WHERE state = 'active';
ALTER TABLE memories DROP COLUMN run_id;
ALTER TABLE memories DROP COLUMN agent_id;
