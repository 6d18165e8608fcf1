DROP TRIGGER IF EXISTS memory_supersessions_erased;
DROP TRIGGER IF EXISTS memory_supersessions_gone;
DROP TABLE IF EXISTS memory_supersessions;
