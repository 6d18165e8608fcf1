-- Entries written with stems are stale for an older binary: mark them so
-- its repair rewrites them (see the up migration).
ALTER TABLE memory_search NO FORCE ROW LEVEL SECURITY;
UPDATE memory_search SET content_hash = '';
ALTER TABLE memory_search FORCE ROW LEVEL SECURITY;
