-- An org that only ever ran experiments (no memory, feedback or query log)
-- was missing from memory_orgs, the org list the runtime role can read, so
-- an instance export or a migrate-data from PostgreSQL left its experiments
-- behind. Experiments note their org there too, and existing ones are
-- backfilled.
CREATE TRIGGER experiments_note_orgs AFTER INSERT ON experiments
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_note_orgs();

INSERT INTO memory_orgs (org_id) SELECT DISTINCT org_id FROM experiments ON CONFLICT DO NOTHING;
