DROP FUNCTION IF EXISTS engram_inference_due_orgs(integer);
DROP TABLE IF EXISTS inference_events;
