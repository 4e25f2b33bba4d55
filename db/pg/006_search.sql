-- pg/006_search.sql - the number of 006_search.sql, kept so that both
-- backends count versions alike. Full-text search (SQLite's FTS5 tables)
-- has no PostgreSQL form yet: on PostgreSQL db_search answers DB_ERROR
-- (its tables do not exist) until a tsvector + unaccent version lands here.
SELECT 1;
