-- Back to FTS5's porter tokenizer; the index is rebuilt as on the way up.
DROP TABLE search_fts;
DELETE FROM search_docs;
CREATE VIRTUAL TABLE search_fts USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
