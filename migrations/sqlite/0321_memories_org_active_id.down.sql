DROP INDEX memories_org_active_id;
