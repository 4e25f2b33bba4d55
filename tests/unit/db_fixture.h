/*
 * db_fixture.h - what the data-layer unit tests share: a fresh catalog in a
 * temporary folder, people and updates seeded with plain SQL, a second
 * connection that holds the write lock (busy), and the test-only fault
 * hook (every statement fails while a file exists).
 */
#ifndef HUBCAST_DB_FIXTURE_H
#define HUBCAST_DB_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "db_backend.h"

static char fx_dir[256], fx_db[300], fx_fault[300];
static struct catalog *fx_holder;

/* Remove the catalog's files and the folder (at exit). */
static void fx_cleanup(void)
{
    static const char *const sfx[] = { "", "-wal", "-shm" };
    char p[320];

    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        snprintf(p, sizeof(p), "%s/hubcast.db%s", fx_dir, sfx[i]);
        unlink(p);
    }
    unlink(fx_fault);
    rmdir(fx_dir);
}

/* A migrated catalog in a new temporary folder (the same folder for the
 * whole run; each call starts from an empty catalog). */
static struct catalog *fx_open(void)
{
    char err[256];
    struct catalog *c;

    if (!fx_dir[0]) {
        snprintf(fx_dir, sizeof(fx_dir), "%s/hc-dbtest-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(fx_dir)) {
            perror("mkdtemp");
            exit(2);
        }
        snprintf(fx_fault, sizeof(fx_fault), "%s/fault", fx_dir);
        atexit(fx_cleanup);
        setenv("HUBCAST_CATALOG_FAULT", fx_fault, 1);
        catalog_fault_init(1);
    }
    snprintf(fx_db, sizeof(fx_db), "%s/hubcast.db", fx_dir);
    if (dbt_pg_url()) {
        dbt_pg_reset();
        snprintf(fx_db, sizeof(fx_db), "%s", dbt_pg_url());
    }
    unlink(fx_db);
    {
        char side[320];
        snprintf(side, sizeof(side), "%s-wal", fx_db);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", fx_db);
        unlink(side);
    }
    if (!(c = catalog_open(fx_db, 1, err, sizeof(err)))) {
        fprintf(stderr, "%s\n", err);
        exit(2);
    }
    return c;
}

static void fx_close(struct catalog *c)
{
    catalog_close(c);
}

/* Every statement fails (as an I/O error) from now until fx_fault_off. */
static void fx_fault_on(void)
{
    FILE *f = fopen(fx_fault, "w");
    if (f)
        fclose(f);
}

static void fx_fault_off(void)
{
    unlink(fx_fault);
}

/* Another connection takes the write lock and keeps it; c waits 50 ms at
 * most for it. */
static void fx_busy_on(struct catalog *c)
{
    char err[256];

    fx_holder = catalog_open(fx_db, 0, err, sizeof(err));
    if (!fx_holder || db_begin(fx_holder) != DB_OK || dbt_hold_writes(fx_holder) < 0) {
        fprintf(stderr, "cannot hold the catalog: %s\n", err);
        exit(2);
    }
    catalog_busy_timeout(c, 50);
}

static void fx_busy_off(void)
{
    db_rollback(fx_holder);
    catalog_close(fx_holder);
    fx_holder = NULL;
}

/* A person; returns the id. */
static int64_t fx_user(struct catalog *c, const char *email, const char *name, const char *team,
                       const char *tz, const char *notify, int64_t created_at)
{
    return cat_insert(c, "INSERT INTO users(email, name, team, time_zone, notify_updates, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)", "sssssI", email, name, team, tz, notify, created_at);
}

/* An update by author; returns the id. */
static int64_t fx_update(struct catalog *c, int64_t author, const char *kind, const char *week,
                         const char *title, const char *status, int64_t created_at, int64_t ready_at)
{
    return cat_insert(c, "INSERT INTO updates(author_id, kind, iso_week, title, status, created_at, "
                         "updated_at, ready_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULLIF(?, 0))", "IssssIII",
                      author, kind, week, title, status, created_at, created_at, ready_at);
}

#endif
