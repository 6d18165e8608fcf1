DROP TRIGGER memory_access_tallies_delete ON memory_access;
DROP TRIGGER memory_access_tallies_insert ON memory_access;
DROP TRIGGER memories_tallies_delete ON memories;
DROP TRIGGER memories_tallies_update ON memories;
DROP TRIGGER memories_tallies_insert ON memories;
DROP FUNCTION engram_memory_access_tallies();
DROP FUNCTION engram_memory_tallies();
DROP FUNCTION engram_tally_keys(text, text, timestamptz, text[]);
DROP TABLE memory_tallies;
