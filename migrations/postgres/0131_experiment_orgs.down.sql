DROP TRIGGER IF EXISTS experiments_note_orgs ON experiments;
