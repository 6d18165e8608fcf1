DROP TABLE memory_search;
DROP TEXT SEARCH CONFIGURATION engram_english;
DROP TEXT SEARCH CONFIGURATION engram_simple;
-- unaccent stays: other schemas of this database may use it.
