-- A data key notes its org in memory_orgs (the org list the runtime role
-- reads to walk orgs), so `engram keys export|rotate` find a key restored
-- by `engram keys import` before any memory of its org.
CREATE TRIGGER data_keys_note_orgs AFTER INSERT ON data_keys
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION engram_note_orgs();
