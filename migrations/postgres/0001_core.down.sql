-- The engram_app role is left in place: it is cluster-wide and other
-- databases or schemas may still grant to it.
DROP TABLE IF EXISTS memory_access;
DROP TABLE IF EXISTS apps;
DROP TABLE IF EXISTS memory_changes;
DROP TABLE IF EXISTS memories;
