DROP INDEX memory_access_by_memory;
