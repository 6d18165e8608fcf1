-- Archives (issue 15, docs/archive.md): fields of an archive line that this
-- version does not know are kept here, as a JSON object, so that a newer
-- archive's fields survive an import and come back out in the next export.
-- NULL (no unknown fields) is the norm and costs nothing to add.
ALTER TABLE memories ADD COLUMN archive_extra TEXT;
ALTER TABLE memory_changes ADD COLUMN archive_extra TEXT;
ALTER TABLE apps ADD COLUMN archive_extra TEXT;
ALTER TABLE memory_access ADD COLUMN archive_extra TEXT;
ALTER TABLE query_logs ADD COLUMN archive_extra TEXT;
ALTER TABLE feedback_events ADD COLUMN archive_extra TEXT;
ALTER TABLE experiments ADD COLUMN archive_extra TEXT;
ALTER TABLE experiment_history ADD COLUMN archive_extra TEXT;
ALTER TABLE experiment_assignments ADD COLUMN archive_extra TEXT;
