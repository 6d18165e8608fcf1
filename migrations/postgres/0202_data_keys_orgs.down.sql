DROP TRIGGER data_keys_note_orgs ON data_keys;
