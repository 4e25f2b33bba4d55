/*
 * db_backend.h - which catalog backend the data-layer unit tests run on.
 * By default SQLite, in a file of the test's temporary folder. With
 * HUBCAST_TEST_BACKEND=postgresql, the database at HUBCAST_TEST_PGURL (the
 * password in PGPASSWORD; tests/unit/pg-run.sh starts a server and sets
 * all three): each fresh catalog is an emptied public schema there.
 */
#ifndef HUBCAST_DB_BACKEND_H
#define HUBCAST_DB_BACKEND_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "catalog.h"

static inline const char *dbt_pg_url(void)
{
    const char *b = getenv("HUBCAST_TEST_BACKEND"), *u = getenv("HUBCAST_TEST_PGURL");

    if (!b || strcmp(b, "postgresql"))
        return NULL;
    if (!u || !*u) {
        fprintf(stderr, "HUBCAST_TEST_BACKEND=postgresql needs HUBCAST_TEST_PGURL\n");
        exit(2);
    }
    return u;
}

/* Empty the test database (every table, function and collation of the
 * public schema goes), so that catalog_open migrates from scratch. */
static inline void dbt_pg_reset(void)
{
    PGconn *pc = PQconnectdb(dbt_pg_url());
    PGresult *r;

    if (PQstatus(pc) != CONNECTION_OK) {
        fprintf(stderr, "cannot reach the test PostgreSQL: %s", PQerrorMessage(pc));
        exit(2);
    }
    r = PQexec(pc, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "cannot empty the test database: %s", PQerrorMessage(pc));
        exit(2);
    }
    PQclear(r);
    PQfinish(pc);
}

/* After rows were written with explicit ids (SQLite then gives out the
 * next after the highest): move every identity past the highest id. */
static inline const char *dbt_pg_sync_ids(void)
{
    return "DO $$ DECLARE r record; BEGIN FOR r IN SELECT table_name, column_name "
           "FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES' LOOP "
           "EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), "
           "GREATEST((SELECT COALESCE(MAX(%I), 0) FROM %I), 1))', "
           "r.table_name, r.column_name, r.column_name, r.table_name); END LOOP; END $$";
}

/* The catalog's path or URL for a SQLite file path of the test. */
static inline const char *dbt_target(const char *sqlite_path)
{
    return dbt_pg_url() ? dbt_pg_url() : sqlite_path;
}

/*
 * After db_begin(holder): hold what SQLite's write lock holds, so that
 * other connections' writes wait (and end DB_BUSY) while reads go on. On
 * PostgreSQL db_begin serialises transactions only; single statements
 * wait on the tables' locks, so take every table in EXCLUSIVE mode.
 */
static inline int dbt_hold_writes(struct catalog *holder)
{
    if (!dbt_pg_url())
        return 0;
    return cat_exec(holder, "DO $$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables "
                            "WHERE schemaname = 'public' LOOP EXECUTE format('LOCK TABLE %I IN "
                            "EXCLUSIVE MODE', t); END LOOP; END $$", "") < 0 ? -1 : 0;
}

#endif
