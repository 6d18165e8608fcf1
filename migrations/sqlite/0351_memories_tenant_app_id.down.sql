DROP INDEX memories_tenant_app_id;
