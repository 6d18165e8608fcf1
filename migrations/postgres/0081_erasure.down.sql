DROP TABLE IF EXISTS erasure_counts;
DROP TABLE IF EXISTS erasure_queue;
DROP TABLE IF EXISTS erasure_jobs;
DROP FUNCTION IF EXISTS engram_erasure_queue();
