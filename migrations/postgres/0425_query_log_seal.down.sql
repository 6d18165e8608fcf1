REVOKE UPDATE (query) ON query_logs FROM engram_app;
