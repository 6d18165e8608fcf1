DROP TRIGGER memories_note_orgs ON memories;
DROP FUNCTION engram_note_orgs();
DROP TABLE memory_orgs;
DROP TABLE memory_search;
DROP TEXT SEARCH CONFIGURATION engram_english;
DROP TEXT SEARCH CONFIGURATION engram_simple;
-- unaccent stays: other schemas of this database may use it.
