-- PostgreSQL-only hardening (row-level security, SECURITY DEFINER search
-- paths); SQLite has neither. Kept so both engines share version numbers.
SELECT 1;
