-- `engram keys seal` (issue 16, docs/privacy.md "Turning encryption on for
-- an existing store") seals, in place and as the runtime role under the
-- org's row-level security, the query-log text written while encryption
-- was off. The runtime role could insert and delete query logs, never
-- update them: it may now update that one column, nothing else of the row.
GRANT UPDATE (query) ON query_logs TO engram_app;
