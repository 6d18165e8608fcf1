DROP TABLE experiment_assignments;
DROP TABLE experiment_history;
DROP TABLE experiments;
DROP TABLE query_logs;
DROP TRIGGER feedback_events_append_only;
DROP TABLE feedback_events;
