DROP TRIGGER IF EXISTS memory_supersessions_erased ON memories;
DROP TRIGGER IF EXISTS memory_supersessions_gone ON memories;
DROP FUNCTION IF EXISTS engram_supersessions_forget();
DROP TABLE IF EXISTS memory_supersessions;
