DROP TABLE memory_access;
DROP TABLE apps;
DROP TABLE memory_changes;
DROP TABLE memories;
