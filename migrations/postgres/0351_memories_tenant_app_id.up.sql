-- Issue 19: the dashboard's memories page filtered by app (and maybe a
-- category or dates) lists one app's memories newest first, a keyset page
-- of 50. memories_tenant_id_idx gives the order but not the app: the page
-- read the user's memories in id order until 51 of them were the app's
-- (and held the category). This index reads the app's rows only, in the
-- page's order.
CREATE INDEX memories_tenant_app_id_idx ON memories (org_id, user_id, app_id, id DESC);
