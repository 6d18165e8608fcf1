DROP FUNCTION IF EXISTS engram_analyze(text);
