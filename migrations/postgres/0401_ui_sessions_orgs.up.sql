-- The retention sweeper deletes expired dashboard sessions org by org, and
-- walks the orgs in memory_orgs (the org list the runtime role can read).
-- An org whose users only signed in to the dashboard (no memory, feedback,
-- query log, experiment or data key) was missing there, so its expired
-- sessions, with their tokens, were never swept. Sessions note their org
-- too, and existing ones are backfilled.
CREATE TRIGGER ui_sessions_note_orgs AFTER INSERT ON ui_sessions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_note_orgs();

-- ui_sessions forces row-level security on its owner too; it is lifted
-- for the backfill only, inside the migration's transaction.
ALTER TABLE ui_sessions NO FORCE ROW LEVEL SECURITY;
INSERT INTO memory_orgs (org_id) SELECT DISTINCT org_id FROM ui_sessions ON CONFLICT DO NOTHING;
ALTER TABLE ui_sessions FORCE ROW LEVEL SECURITY;
