-- The text-index drift repair (ports.IndexDrift) walks an org in
-- (user_id, id) order with a keyset cursor, so each step continues where
-- the last stopped and a pass is linear in the org. memories_tenant_id_idx
-- keeps id descending, which cannot serve (user_id, id) > (u, i) ORDER BY
-- user_id, id across users; this index can (memory_search's primary key
-- already does for the index side). SQLite's memories_tenant_id is already
-- (org_id, user_id, id). A backward scan of this index would also serve the
-- newest-first list pages, so memories_tenant_id_idx could go once their
-- plans are checked.
CREATE INDEX memories_tenant_key_idx ON memories (org_id, user_id, id);
