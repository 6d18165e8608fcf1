DROP TABLE search_fts;
DROP TABLE search_docs;
