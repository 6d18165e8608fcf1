-- Issue 19: a memory's access log (GET /api/v1/memories/{id}/access) reads
-- its rows by memory, one per app that read it.
CREATE INDEX memory_access_by_memory ON memory_access (org_id, user_id, memory_id, accessed_at);
