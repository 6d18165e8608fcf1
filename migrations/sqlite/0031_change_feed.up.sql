-- The change feed (docs/search.md, "Several processes on one store") reads
-- memory_changes by seq, its primary key: SQLite needs nothing new. This
-- migration keeps the engines' version numbers in step.
SELECT 1;
