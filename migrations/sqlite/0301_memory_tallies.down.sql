DROP TRIGGER memory_access_tallies_sub;
DROP TRIGGER memory_access_tallies_add;
DROP TRIGGER memory_tallies_move;
DROP TRIGGER memory_tallies_sub;
DROP TRIGGER memory_tallies_add;
DROP TABLE memory_tallies;
