-- Erasure deletes a subject's API keys instead of revoking them, so the
-- runtime role may delete api_keys rows. Row-level security still binds
-- it: tenant_isolation_delete (0091) needs the transaction's org, and a
-- caller who only knows a key's hash can delete nothing.
GRANT DELETE ON api_keys TO engram_app;
