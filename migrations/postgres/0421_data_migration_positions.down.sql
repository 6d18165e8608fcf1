DROP TABLE data_migration_positions;
