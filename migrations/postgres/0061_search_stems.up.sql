-- Issue 14: the text index's lexemes are now English Snowball stems made by
-- the application (adapters/pgstore/fts_words.go), so entries written
-- before hold other lexemes. Blanking their content hash makes every one
-- of them drift (TextIndex.Drift), and the index repair at start (or
-- `engram reindex`) rewrites them; until then they keep answering the
-- words whose stem is the word itself. The table forces row-level
-- security on its owner too, so the update lifts it for this statement
-- only, inside the migration's transaction.
ALTER TABLE memory_search NO FORCE ROW LEVEL SECURITY;
UPDATE memory_search SET content_hash = '';
ALTER TABLE memory_search FORCE ROW LEVEL SECURITY;
