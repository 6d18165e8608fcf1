DROP TRIGGER query_logs_note_orgs ON query_logs;
DROP TRIGGER feedback_events_note_orgs ON feedback_events;
DROP TABLE experiment_assignments;
DROP TABLE experiment_history;
DROP TABLE experiments;
DROP TABLE query_logs;
DROP TABLE feedback_events;
DROP FUNCTION engram_feedback_append_only();
