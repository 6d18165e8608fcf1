-- Issue 14: PostgreSQL's text index changed its lexemes (0061 there); the
-- SQLite index did not (FTS5's porter tokenizer stems it). Versions stay
-- in step across engines.
SELECT 1;
