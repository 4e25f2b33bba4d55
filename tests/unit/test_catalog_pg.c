/*
 * test_catalog_pg.c - the PostgreSQL backend of the catalog (placeholders,
 * types, errors mapped to enum db_rc, a failed statement inside a
 * transaction, a lost connection, writers' transactions one at a time) and
 * named leadership (one holder; taken over when the holder is killed).
 * Without HUBCAST_TEST_BACKEND=postgresql (tests/unit/pg-run.sh) only the
 * SQLite case of leadership runs; the others are skipped.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "db_backend.h"
#include "leader.h"
#include "unit.h"
#include "util.h"

static char dir[256], dbpath[300];
static struct catalog *cat, *other;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

UNIT_TEST(placeholders_named_numbered_and_in_quotes)
{
    char *s = NULL;
    int64_t v = 0;

    CHECK_INT(cat_get_text(cat, &s, "SELECT :a || '-' || :b || '-' || :a", "ss", "x", "y"), DB_OK);
    CHECK_STR(s, "x-y-x");
    free(s);
    s = NULL;
    CHECK_INT(cat_get_text(cat, &s, "SELECT ?2 || ?1", "ss", "1", "2"), DB_OK);
    CHECK_STR(s, "21");
    free(s);
    s = NULL;
    CHECK_INT(cat_get_text(cat, &s, "SELECT '?:x' || \"name\" FROM (SELECT ? AS \"name\") t", "s", "z"), DB_OK);
    CHECK_STR(s, "?:xz");
    free(s);
    /* A comparison reads as 1 or 0, as in SQLite. */
    CHECK_INT(cat_get_int(cat, &v, "SELECT 1 < ?", "i", 2), DB_OK);
    CHECK_INT(v, 1);
    /* A NULL first tested with IS NULL. */
    CHECK_INT(cat_get_int(cat, &v, "SELECT CASE WHEN ? IS NULL THEN 7 ELSE 8 END", "s", NULL), DB_OK);
    CHECK_INT(v, 7);
    CHECK_INT(cat_get_int(cat, &v, "SELECT CASE WHEN ? IS NULL THEN 7 ELSE 8 END", "s", "x"), DB_OK);
    CHECK_INT(v, 8);
    /* A negative LIMIT is no limit, as in SQLite. */
    CHECK_INT(cat_get_int(cat, &v, "SELECT COUNT(*) FROM (SELECT 1 FROM generate_series(1, 5) LIMIT ?) t",
                          "i", -1), DB_OK);
    CHECK_INT(v, 5);
    CHECK_INT(cat_get_int(cat, &v, "SELECT COUNT(*) FROM (SELECT 1 FROM generate_series(1, 5) LIMIT ?) t",
                          "i", 2), DB_OK);
    CHECK_INT(v, 2);
}

UNIT_TEST(errors_map_to_db_rc)
{
    int64_t id;

    id = cat_insert(cat, "INSERT INTO users(email, name, created_at) VALUES (?, ?, ?)", "ssI",
                    "ann@example.com", "Ann", (int64_t)1);
    CHECK(id > 0);
    /* The same address in other case: NOCASE, as on SQLite. */
    CHECK(cat_insert(cat, "INSERT INTO users(email, name, created_at) VALUES (?, ?, ?)", "ssI",
                     "ANN@example.com", "Ann", (int64_t)1) < 0);
    CHECK_INT(cat_rc(cat), DB_CONSTRAINT);
    CHECK(cat_exec(cat, "UPDATE users SET role = 'king' WHERE id = ?", "I", id) < 0);
    CHECK_INT(cat_rc(cat), DB_CONSTRAINT);
    CHECK(cat_exec(cat, "SELEKT 1", "") < 0);
    CHECK_INT(cat_rc(cat), DB_ERROR);
    /* Another connection holds the write lock: a write waits, then is busy. */
    CHECK_INT(db_begin(other), DB_OK);
    CHECK_INT(dbt_hold_writes(other), 0);
    catalog_busy_timeout(cat, 100);
    CHECK(cat_exec(cat, "UPDATE users SET name = 'A' WHERE id = ?", "I", id) < 0);
    CHECK_INT(cat_rc(cat), DB_BUSY);
    /* and so does a transaction. */
    CHECK_INT(db_begin(cat), DB_BUSY);
    db_rollback(other);
    CHECK_INT(db_begin(cat), DB_OK);
    CHECK_INT(db_commit(cat), DB_OK);
    catalog_busy_timeout(cat, 10000);
}

UNIT_TEST(a_failed_statement_leaves_its_transaction_usable)
{
    int64_t n = 0;

    CHECK_INT(db_begin(cat), DB_OK);
    CHECK(cat_insert(cat, "INSERT INTO users(email, name, created_at) VALUES ('b1@x', 'B1', 1)", "") > 0);
    CHECK(cat_insert(cat, "INSERT INTO users(email, name, created_at) VALUES ('B1@x', 'B1', 1)", "") < 0);
    CHECK_INT(cat_rc(cat), DB_CONSTRAINT);
    CHECK(cat_insert(cat, "INSERT INTO users(email, name, created_at) VALUES ('b2@x', 'B2', 1)", "") > 0);
    CHECK_INT(db_commit(cat), DB_OK);
    CHECK_INT(cat_get_int(cat, &n, "SELECT COUNT(*) FROM users WHERE email IN ('b1@x', 'b2@x')", ""), DB_OK);
    CHECK_INT(n, 2);
}

UNIT_TEST(a_lost_connection_fails_one_call_and_is_made_again)
{
    int64_t pid = 0, v = 0, n = 0;

    CHECK_INT(cat_get_int(cat, &pid, "SELECT pg_backend_pid()", ""), DB_OK);
    CHECK_INT(cat_get_int(other, &v, "SELECT pg_terminate_backend(CAST(? AS integer))", "I", pid), DB_OK);
    CHECK_INT(v, 1);
    CHECK_INT(cat_get_int(cat, &n, "SELECT COUNT(*) FROM users", ""), DB_ERROR);
    CHECK_INT(cat_get_int(cat, &n, "SELECT COUNT(*) FROM users", ""), DB_OK);
    CHECK(n >= 3);
    CHECK_INT(cat_get_int(cat, &v, "SELECT pg_backend_pid()", ""), DB_OK);
    CHECK(v != pid);
}

UNIT_TEST(row_claims_skip_each_other_and_wait_for_no_writer)
{
    int64_t a = 0, b = 0;

    CHECK(cat_exec(cat, "CREATE TABLE claimable (id bigint PRIMARY KEY, state text NOT NULL)", "") >= 0);
    CHECK(cat_exec(cat, "INSERT INTO claimable VALUES (1, 'queued'), (2, 'queued')", "") == 2);
    /* A writer's transaction is open elsewhere: row claims do not wait for it. */
    CHECK_INT(db_begin(other), DB_OK);
    CHECK_INT(db_begin_rows(cat), DB_OK);
    CHECK_INT(cat_get_int(cat, &a, "SELECT id FROM claimable WHERE state = 'queued' ORDER BY id "
                                   "LIMIT 1 FOR UPDATE SKIP LOCKED", ""), DB_OK);
    db_rollback(other);
    /* A second claimer, while the first holds its row, takes the next one. */
    CHECK_INT(db_begin_rows(other), DB_OK);
    CHECK_INT(cat_get_int(other, &b, "SELECT id FROM claimable WHERE state = 'queued' ORDER BY id "
                                     "LIMIT 1 FOR UPDATE SKIP LOCKED", ""), DB_OK);
    CHECK_INT(a, 1);
    CHECK_INT(b, 2);
    CHECK_INT(cat_exec(cat, "UPDATE claimable SET state = 'running' WHERE id = ?", "I", a), 1);
    CHECK_INT(cat_exec(other, "UPDATE claimable SET state = 'running' WHERE id = ?", "I", b), 1);
    CHECK_INT(db_commit(cat), DB_OK);
    CHECK_INT(db_commit(other), DB_OK);
    CHECK_INT(cat_is_pg(cat), 1);
}

UNIT_TEST(leadership_on_sqlite_is_always_held)
{
    char err[256];
    struct leader *a = leader_open(dbpath, "scheduler", err, sizeof(err));
    struct leader *b = leader_open(dbpath, "scheduler", err, sizeof(err));

    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK_INT(leader_hold(a), 1);
    CHECK_INT(leader_hold(b), 1);
    leader_close(a);
    leader_close(b);
}

/* A child process that takes the leadership, says so on fd, and waits to
 * be killed; with probe, one that only reports leader_hold() as its exit
 * status. */
static pid_t contender(const char *name, int fd, int probe)
{
    pid_t pid = fork();

    if (pid == 0) {
        char err[256];
        struct leader *l = leader_open(dbt_pg_url(), name, err, sizeof(err));
        int rc = l ? leader_hold(l) : -1;
        if (probe)
            _exit(rc == 1 ? 1 : rc == 0 ? 0 : 3);
        if (rc == 1 && write(fd, "y", 1) != 1)
            _exit(4);
        for (;;)
            pause();
    }
    return pid;
}

static int probe(const char *name)
{
    int st = 0;
    pid_t p = contender(name, -1, 1);
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

UNIT_TEST(one_leader_at_a_time_and_taken_over_when_it_is_killed)
{
    char err[256], ch = 0;
    int fds[2], st;
    struct leader *me;
    pid_t first;
    double t0, took = -1;

    CHECK_INT(pipe(fds), 0);
    first = contender("scheduler", fds[1], 0);
    CHECK_INT(read(fds[0], &ch, 1), 1);     /* the first leads */
    me = leader_open(dbt_pg_url(), "scheduler", err, sizeof(err));
    CHECK(me != NULL);
    if (!me)
        return;
    for (int i = 0; i < 5; i++)
        CHECK_INT(leader_hold(me), 0);
    CHECK_INT(probe("scheduler"), 0);       /* nor a third */
    CHECK_INT(probe("mail"), 1);            /* another name is another leadership */
    kill(first, SIGKILL);
    waitpid(first, &st, 0);
    t0 = now_s();
    while (now_s() - t0 < 60) {
        if (leader_hold(me) == 1) {
            took = now_s() - t0;
            break;
        }
        usleep(100 * 1000);
    }
    printf("# the leadership was taken over %.2f s after its holder was killed\n", took);
    CHECK(took >= 0);
    CHECK(took < 30);                       /* "within seconds", with slack */
    CHECK_INT(leader_hold(me), 1);
    CHECK_INT(probe("scheduler"), 0);       /* and only by one */
    leader_close(me);
    CHECK_INT(probe("scheduler"), 1);       /* given up on close */
    close(fds[0]);
    close(fds[1]);
}

static void skip(const char *name)
{
    printf("ok %s # SKIP PostgreSQL only (tests/unit/pg-run.sh)\n", name);
}

int main(void)
{
    char err[512];

    snprintf(dir, sizeof(dir), "%s/hubcast-cpg-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 2;
    snprintf(dbpath, sizeof(dbpath), "%s/hubcast.db", dir);
    unit_run(leadership_on_sqlite_is_always_held, "leadership_on_sqlite_is_always_held");
    if (!dbt_pg_url()) {
        skip("placeholders_named_numbered_and_in_quotes");
        skip("errors_map_to_db_rc");
        skip("a_failed_statement_leaves_its_transaction_usable");
        skip("a_lost_connection_fails_one_call_and_is_made_again");
        skip("row_claims_skip_each_other_and_wait_for_no_writer");
        skip("one_leader_at_a_time_and_taken_over_when_it_is_killed");
    } else {
        dbt_pg_reset();
        if (!(cat = catalog_open(dbt_pg_url(), 1, err, sizeof(err))) ||
            !(other = catalog_open(dbt_pg_url(), 0, err, sizeof(err)))) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        unit_run(placeholders_named_numbered_and_in_quotes, "placeholders_named_numbered_and_in_quotes");
        unit_run(errors_map_to_db_rc, "errors_map_to_db_rc");
        unit_run(a_failed_statement_leaves_its_transaction_usable,
                 "a_failed_statement_leaves_its_transaction_usable");
        unit_run(a_lost_connection_fails_one_call_and_is_made_again,
                 "a_lost_connection_fails_one_call_and_is_made_again");
        unit_run(row_claims_skip_each_other_and_wait_for_no_writer,
                 "row_claims_skip_each_other_and_wait_for_no_writer");
        unit_run(one_leader_at_a_time_and_taken_over_when_it_is_killed,
                 "one_leader_at_a_time_and_taken_over_when_it_is_killed");
        catalog_close(other);
        catalog_close(cat);
    }
    {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return unit_done();
}
