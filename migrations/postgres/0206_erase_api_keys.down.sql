REVOKE DELETE ON api_keys FROM engram_app;
