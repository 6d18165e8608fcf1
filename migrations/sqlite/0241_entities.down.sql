DROP TABLE entity_edges;
DROP TABLE entity_links;
DROP TABLE entity_aliases;
DROP TABLE entities;
