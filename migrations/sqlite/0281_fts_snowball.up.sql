-- Issue 14: words are reduced to their English Snowball stem in Go
-- (github.com/kljensen/snowball) before they get the tenant prefix, on the
-- index and the query side, so FTS5 no longer stems. Its porter tokenizer
-- saw every word behind the tenant prefix ("t" and 24 hex digits), whose
-- vowels satisfied the stemmer's conditions on the stem: "sing" became
-- "s", "bed" "b", "cake" "cak". The index is rebuilt: search_docs is
-- emptied, so every active memory is missing from it and the repair at
-- start (or `engram reindex`) indexes it again.
DROP TABLE search_fts;
DELETE FROM search_docs;
CREATE VIRTUAL TABLE search_fts USING fts5 (
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
