-- Numbered like PostgreSQL's 0021 (which lets the runtime role read the
-- schema version); SQLite has no roles, so there is nothing to grant.
SELECT 1;
