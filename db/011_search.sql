-- 011_search.sql - nothing changes on SQLite: this number is PostgreSQL's
-- full-text search (pg/011_search.sql), which SQLite has had since
-- 006_search.sql. Kept so that both backends count versions alike; one
-- statement, because the migration runners apply each file as SQL.
SELECT 1;
