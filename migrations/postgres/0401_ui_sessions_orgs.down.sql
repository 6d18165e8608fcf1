DROP TRIGGER IF EXISTS ui_sessions_note_orgs ON ui_sessions;
