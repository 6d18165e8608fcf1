-- A start reads every active memory of each org in id order, a page at a
-- time (ScanActive: org_id = ?, active, id > ?, ORDER BY id, LIMIT 256).
-- No index gave that order, so each page read the org's whole active set
-- through memories_active_hash and sorted it in a temporary b-tree: a start
-- was quadratic in an org's size (at 1M memories over 10 orgs, about 390
-- pages each re-reading 100,000 rows). With this index each page is a range
-- read of its own rows.
CREATE INDEX memories_org_active_id ON memories (org_id, id) WHERE state = 'active' AND erased = 0;
