-- PostgreSQL notes a data key's org for cross-org walks (0202); SQLite needs
-- no org list. This keeps the version numbers of both engines in step.
SELECT 1;
