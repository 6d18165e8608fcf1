DROP TABLE IF EXISTS erasure_counts;
DROP TABLE IF EXISTS erasure_jobs;
