DROP INDEX memories_tenant_key_idx;
