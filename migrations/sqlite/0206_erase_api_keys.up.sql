-- Numbered like PostgreSQL's 0206 (which lets the runtime role delete API
-- keys on erasure); SQLite has no roles, so there is nothing to grant.
SELECT 1;
