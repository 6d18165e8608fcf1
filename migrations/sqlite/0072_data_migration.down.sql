DROP TABLE data_migration;
