-- The retention sweeper deletes OAuth codes and refresh tokens that expired
-- more than their grace ago, org by org (refresh rotation adds a row at
-- every refresh and nothing else deleted them but an erasure). The sweep's
-- delete finds them by org and expiry rather than scanning the table.
CREATE INDEX oauth_tokens_expiry_idx ON oauth_tokens (org_id, expires_at);

-- The sweeper walks the orgs in memory_orgs. An org whose users only
-- connected OAuth clients (no memory, feedback, query log, experiment,
-- data key or dashboard session) was missing there, so its tokens were
-- never swept. Tokens note their org too, and existing ones are
-- backfilled.
CREATE TRIGGER oauth_tokens_note_orgs AFTER INSERT ON oauth_tokens
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_note_orgs();

-- oauth_tokens forces row-level security on its owner too; it is lifted
-- for the backfill only, inside the migration's transaction.
ALTER TABLE oauth_tokens NO FORCE ROW LEVEL SECURITY;
INSERT INTO memory_orgs (org_id) SELECT DISTINCT org_id FROM oauth_tokens ON CONFLICT DO NOTHING;
ALTER TABLE oauth_tokens FORCE ROW LEVEL SECURITY;
