/*
 * test_db_updates.c - unit tests of db_updates, db_uploads and db_social
 * against a real SQLite catalog in a temporary folder (and on PostgreSQL,
 * through tests/unit/pg-run.sh): found, not found, constraint, busy (a
 * second connection holding the write lock), an injected error (the
 * HUBCAST_CATALOG_FAULT hook), the lifecycle's allowed and refused
 * transitions, the visibility rule, job claims (fair order, lanes, two
 * workers at once, and on PostgreSQL a claim beside another's open
 * transaction), kind/answers changes and mentions (migration 005),
 * first-playable jobs and live uploads (migration 007), and migration 003
 * on a catalog made by the first two migrations.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "catalog.h"
#include "db_backend.h"
#include "db_social.h"
#include "db_trim.h"
#include "db_updates.h"
#include "db_uploads.h"
#include "unit.h"
#include "util.h"

static char tmp[256], dbpath[300], faultpath[300];
static struct catalog *cat;
static int64_t ann, ben, boss;  /* two members and an admin */

/* Run SQL on a second connection (seeding what the API cannot make). */
static void seed(const char *sql)
{
    sqlite3 *db;
    char *err = NULL;

    if (dbt_pg_url()) {
        PGconn *pc = PQconnectdb(dbt_pg_url());
        PGresult *r = PQexec(pc, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "seed: %s: %s\n", sql, PQerrorMessage(pc));
            exit(2);
        }
        PQclear(r);
        PQclear(PQexec(pc, dbt_pg_sync_ids()));
        PQfinish(pc);
        return;
    }
    if (sqlite3_open(dbpath, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "seed: %s: %s\n", sql, err ? err : sqlite3_errmsg(db));
        exit(2);
    }
    sqlite3_close(db);
}

static void fault(int on)
{
    if (on) {
        FILE *f = fopen(faultpath, "w");
        if (f)
            fclose(f);
    } else {
        unlink(faultpath);
    }
}

static int64_t new_update(int64_t author, const char *kind, const char *status)
{
    struct db_update_new in = { author, kind, "2026-W10", "A title", "words", "/nowhere/input.part",
                                !strcmp(kind, "allhands") ? 10 : 0, 1000, NULL, 0, 0, NULL };
    int64_t id = 0;
    char sql[200];

    if (cat_begin(cat) < 0 || db_update_insert_queued(cat, &in, &id) != DB_OK || cat_commit(cat) < 0) {
        fprintf(stderr, "new_update failed\n");
        exit(2);
    }
    if (strcmp(status, "queued")) {
        snprintf(sql, sizeof(sql), "UPDATE updates SET status = '%s' WHERE id = %lld", status, (long long)id);
        seed(sql);
    }
    return id;
}

/* A second connection that holds the write lock until release_lock().
 * Meanwhile the catalog under test waits 0.3 s for a lock, not 10: what
 * is checked is the answer (DB_BUSY), not the patience. */
static sqlite3 *locker;
static struct catalog *pg_locker;
static void hold_lock(void)
{
    catalog_busy_timeout(cat, 300);
    if (dbt_pg_url()) {
        char err[256];
        if (!(pg_locker = catalog_open(dbt_pg_url(), 0, err, sizeof(err))) ||
            db_begin(pg_locker) != DB_OK || dbt_hold_writes(pg_locker) < 0) {
            fprintf(stderr, "cannot hold the catalog: %s\n", err);
            exit(2);
        }
        return;
    }
    sqlite3_open(dbpath, &locker);
    sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL);
}
static void release_lock(void)
{
    catalog_busy_timeout(cat, 10000);
    if (pg_locker) {
        db_rollback(pg_locker);
        catalog_close(pg_locker);
        pg_locker = NULL;
        return;
    }
    sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(locker);
    locker = NULL;
}

/* ---- the visibility rule ---- */

UNIT_TEST(visibility_member_sees_ready_and_own_admin_all)
{
    int64_t queued = new_update(ann, "weekly", "queued");
    int64_t failed = new_update(ann, "weekly", "failed");
    int64_t ready = new_update(ann, "weekly", "ready");
    struct db_viewer vben = { ben, 0 }, vann = { ann, 0 }, vboss = { boss, 1 };
    struct db_update u;

    CHECK_INT(db_update_get(cat, &vben, ready, &u), DB_OK);
    CHECK_STR(u.status, "ready");
    CHECK_STR(u.author_name, "Ann");
    CHECK_INT(strlen(u.nonce), 32);
    db_update_free(&u);
    CHECK_INT(db_update_get(cat, &vben, queued, &u), DB_NOTFOUND);
    CHECK_INT(db_update_get(cat, &vben, failed, &u), DB_NOTFOUND);
    CHECK_INT(db_update_get(cat, &vann, failed, &u), DB_OK);
    db_update_free(&u);
    CHECK_INT(db_update_get(cat, &vboss, queued, &u), DB_OK);
    db_update_free(&u);
    CHECK_INT(db_update_get(cat, &vboss, 999999, &u), DB_NOTFOUND);
}

UNIT_TEST(list_status_filter_never_widens_visibility)
{
    struct db_viewer vben = { ben, 0 }, vann = { ann, 0 }, vboss = { boss, 1 };
    struct db_update_filter f = { .status = "failed", .limit = 50 };
    struct db_update *list;
    size_t n;
    int64_t total = -1;

    CHECK_INT(db_update_list(cat, &vben, &f, &list, &n, &total), DB_OK);
    CHECK_INT(n, 0);
    CHECK_INT(total, 0);
    db_update_list_free(&list, n);
    CHECK_INT(db_update_list(cat, &vann, &f, &list, &n, &total), DB_OK);
    CHECK(n >= 1);
    CHECK_INT(total, (int64_t)n);
    db_update_list_free(&list, n);
    CHECK_INT(db_update_list(cat, &vboss, &f, &list, &n, NULL), DB_OK);
    CHECK(n >= 1);
    db_update_list_free(&list, n);
    fault(1);
    CHECK_INT(db_update_list(cat, &vboss, &f, &list, &n, &total), DB_ERROR);
    CHECK(list == NULL);
    fault(0);
}

UNIT_TEST(week_people_posted_and_missing)
{
    struct db_week_person *p;
    size_t n;

    CHECK_INT(db_update_week_people(cat, "2026-W10", 1, &p, &n), DB_OK);
    CHECK(n >= 1);
    CHECK_STR(p[0].name, "Ann");
    free(p);
    CHECK_INT(db_update_week_people(cat, "2026-W10", 0, &p, &n), DB_OK);
    free(p);
    fault(1);
    CHECK_INT(db_update_week_people(cat, "2026-W10", 0, &p, &n), DB_ERROR);
    fault(0);
}

/* ---- reads and edits ---- */

UNIT_TEST(media_needs_a_ready_update)
{
    int64_t ready = new_update(ben, "weekly", "ready"), queued = new_update(ben, "weekly", "queued");
    char nonce[DB_NONCE_SIZE], again[DB_NONCE_SIZE];

    CHECK_INT(db_update_media(cat, ready, nonce), DB_OK);
    CHECK_INT(db_update_nonce(cat, ready, again), DB_OK);
    CHECK_STR(nonce, again);
    CHECK_INT(db_update_media(cat, queued, nonce), DB_NOTFOUND);
    CHECK_INT(db_update_nonce(cat, queued, again), DB_OK);
    CHECK(strcmp(nonce, again) != 0);   /* one nonce per update */
    CHECK_INT(db_update_nonce(cat, 999999, nonce), DB_NOTFOUND);
    fault(1);
    CHECK_INT(db_update_media(cat, ready, nonce), DB_ERROR);
    CHECK_INT(db_update_nonce(cat, ready, nonce), DB_ERROR);
    fault(0);
}

UNIT_TEST(edit_found_notfound_busy_error)
{
    int64_t id = new_update(ann, "weekly", "ready");
    struct db_viewer v = { ann, 0 };
    struct db_update u;

    CHECK_INT(db_update_edit(cat, id, "New title", NULL, 2000), DB_OK);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.title, "New title");
    CHECK_STR(u.description, "words");
    db_update_free(&u);
    CHECK_INT(db_update_edit(cat, 999999, "x", NULL, 2000), DB_NOTFOUND);
    fault(1);
    CHECK_INT(db_update_edit(cat, id, "x", NULL, 2000), DB_ERROR);
    fault(0);
    hold_lock();
    CHECK_INT(db_update_edit(cat, id, "x", NULL, 2000), DB_BUSY);
    release_lock();
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.title, "New title");     /* nothing half done */
    db_update_free(&u);
}

UNIT_TEST(insert_queued_constraint)
{
    struct db_update_new in = { ann, "monthly", "2026-W10", "t", NULL, "/x", 0, 1000, NULL, 0, 0, NULL };
    int64_t id = 0;

    CHECK_INT(cat_begin(cat), 0);
    CHECK_INT(db_update_insert_queued(cat, &in, &id), DB_CONSTRAINT);   /* kind CHECK */
    in.kind = "weekly";
    in.author_id = 999999;
    CHECK_INT(db_update_insert_queued(cat, &in, &id), DB_CONSTRAINT);   /* no such author */
    cat_rollback(cat);
}

UNIT_TEST(delete_returns_inputs_and_ids_are_never_reused)
{
    int64_t id = new_update(ben, "weekly", "ready"), next;
    struct db_viewer v = { boss, 1 };
    struct db_update u;
    char **inputs;
    size_t n;

    CHECK_INT(db_update_delete(cat, id, &inputs, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_STR(inputs[0], "/nowhere/input.part");
    db_strings_free(&inputs, n);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_NOTFOUND);
    CHECK_INT(db_update_delete(cat, id, &inputs, &n), DB_NOTFOUND);
    next = new_update(ben, "weekly", "ready");
    CHECK(next > id);
    fault(1);
    CHECK_INT(db_update_delete(cat, next, &inputs, &n), DB_ERROR);
    CHECK(inputs == NULL);
    fault(0);
}

/* ---- the job lifecycle ---- */

static int ready_hook_calls;
static int ready_hook(struct catalog *c, int64_t update_id, void *arg)
{
    (void)c;
    (void)update_id;
    ready_hook_calls++;
    return arg ? -1 : 0;
}

static void drain_jobs(void)
{
    /* Long done: they no longer count in anyone's turn. */
    seed("UPDATE jobs SET state = CASE WHEN state IN ('queued', 'running') THEN 'done' ELSE state END, "
         "updated_at = 0");
}

UNIT_TEST(job_claim_heartbeat_finish)
{
    struct db_rendition rungs[2] = { { "360p", 640, 360, 900000, 800000, "avc1.64001e,mp4a.40.2" },
                                     { "720p", 1280, 720, 3000000, 2500000, "avc1.64001f,mp4a.40.2" } };
    struct db_ready r = { 12.5, 1280, 720, rungs, 2, 3000 };
    struct db_viewer v = { boss, 1 };
    struct db_rendition *rl;
    struct db_update u;
    struct db_job job, none;
    size_t n;
    int64_t id;

    drain_jobs();
    id = new_update(ann, "weekly", "queued");
    CHECK_INT(db_job_claim(cat, "w1", 2000, 60, 3, "used up", &job), DB_OK);
    CHECK_INT(job.update_id, id);
    CHECK_INT(job.attempts, 1);
    CHECK(!strcmp(job.input_path, "/nowhere/input.part"));
    CHECK_INT(db_job_claim(cat, "w2", 2000, 60, 3, "used up", &none), DB_NOTFOUND);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.status, "processing");
    db_update_free(&u);
    CHECK_INT(db_job_heartbeat(cat, job.id, "w1", 50, 10, 2001, 60), DB_OK);
    CHECK_INT(db_job_heartbeat(cat, job.id, "w2", 50, 10, 2001, 60), DB_INVALID);
    /* A hook that refuses aborts everything: still processing, no renditions. */
    ready_hook_calls = 0;
    CHECK(db_job_finish(cat, job.id, "w1", &r, ready_hook, (void *)1) < 0);
    CHECK_INT(ready_hook_calls, 1);
    CHECK_INT(db_rendition_list(cat, id, &rl, &n), DB_OK);
    CHECK_INT(n, 0);
    free(rl);
    fault(1);
    CHECK_INT(db_job_finish(cat, job.id, "w1", &r, ready_hook, NULL), DB_ERROR);
    CHECK_INT(db_job_heartbeat(cat, job.id, "w1", 50, 10, 2001, 60), DB_ERROR);
    fault(0);
    hold_lock();
    CHECK_INT(db_job_finish(cat, job.id, "w1", &r, ready_hook, NULL), DB_BUSY);
    release_lock();
    CHECK_INT(db_job_finish(cat, job.id, "w2", &r, ready_hook, NULL), DB_INVALID);
    CHECK_INT(db_job_finish(cat, job.id, "w1", &r, ready_hook, NULL), DB_OK);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.status, "ready");
    CHECK_INT(u.width, 1280);
    CHECK_INT((int)(u.progress), 100);
    db_update_free(&u);
    CHECK_INT(db_rendition_list(cat, id, &rl, &n), DB_OK);
    CHECK_INT(n, 2);
    CHECK_STR(rl[0].name, "720p");
    free(rl);
    /* done is final */
    CHECK_INT(db_job_finish(cat, job.id, "w1", &r, ready_hook, NULL), DB_INVALID);
    CHECK_INT(db_job_fail(cat, job.id, "w1", "late", 3001), DB_INVALID);
    CHECK_INT(db_job_release(cat, job.id, "w1", 3001), DB_INVALID);
}

UNIT_TEST(job_fail_release_and_lease)
{
    struct db_viewer v = { boss, 1 };
    struct db_update u;
    struct db_job job, again;
    int64_t id;

    drain_jobs();
    id = new_update(ann, "weekly", "queued");
    CHECK_INT(db_job_claim(cat, "w1", 2000, 60, 3, "used up", &job), DB_OK);
    CHECK_INT(db_job_release(cat, job.id, "w1", 2001), DB_OK);
    CHECK_INT(db_job_claim(cat, "w2", 2002, 60, 3, "used up", &again), DB_OK);
    CHECK_INT(again.id, job.id);
    CHECK_INT(again.attempts, 1);       /* the handed-back attempt was not spent */
    /* The lease runs out: another worker takes it over. */
    CHECK_INT(db_job_claim(cat, "w3", 2002 + 61, 60, 3, "used up", &again), DB_OK);
    CHECK_INT(again.attempts, 2);
    CHECK_INT(db_job_fail(cat, job.id, "w2", "not yours", 2100), DB_INVALID);
    fault(1);
    CHECK_INT(db_job_fail(cat, job.id, "w3", "broken", 2100), DB_ERROR);
    CHECK_INT(db_job_release(cat, job.id, "w3", 2100), DB_ERROR);
    CHECK_INT(db_job_claim(cat, "w4", 2100, 60, 3, "used up", &again), DB_ERROR);
    fault(0);
    CHECK_INT(db_job_fail(cat, job.id, "w3", "broken", 2100), DB_OK);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.status, "failed");
    CHECK(!strcmp(u.error, "broken"));
    db_update_free(&u);
}

UNIT_TEST(job_attempts_used_up_and_deleted_update_dropped)
{
    struct db_viewer v = { boss, 1 };
    struct db_ready r = { 1, 2, 2, NULL, 0, 3000 };
    struct db_update u;
    struct db_job job;
    char **inputs;
    size_t n;
    int64_t id, gone;

    drain_jobs();
    id = new_update(ann, "weekly", "queued");
    seed("UPDATE jobs SET attempts = 3 WHERE state = 'queued'");
    CHECK_INT(db_job_claim(cat, "w1", 2000, 60, 3, "used up", &job), DB_NOTFOUND);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.status, "failed");
    CHECK(!strcmp(u.error, "used up"));
    db_update_free(&u);
    /* Deleted while queued: dropped at the next claim. */
    gone = new_update(ann, "weekly", "queued");
    CHECK_INT(db_update_delete(cat, gone, &inputs, &n), DB_OK);
    db_strings_free(&inputs, n);
    CHECK_INT(db_job_claim(cat, "w1", 2000, 60, 3, "used up", &job), DB_NOTFOUND);
    /* Deleted while running: the heartbeat says stop, the report says gone. */
    gone = new_update(ann, "weekly", "queued");
    CHECK_INT(db_job_claim(cat, "w1", 2000, 60, 3, "used up", &job), DB_OK);
    CHECK_INT(db_update_delete(cat, gone, &inputs, &n), DB_OK);
    db_strings_free(&inputs, n);
    CHECK_INT(db_job_heartbeat(cat, job.id, "w1", 1, -1, 2001, 60), DB_INVALID);
    CHECK_INT(db_job_finish(cat, job.id, "w1", &r, NULL, NULL), DB_NOTFOUND);
    CHECK_INT(db_job_finish(cat, job.id, "w1", &r, NULL, NULL), DB_INVALID);
}

UNIT_TEST(job_claim_order_allhands_then_fair_turns)
{
    struct db_job job;
    int64_t a1, a2, a3, b1, ah;

    drain_jobs();
    a1 = new_update(ann, "weekly", "queued");
    a2 = new_update(ann, "weekly", "queued");
    a3 = new_update(ann, "weekly", "queued");
    b1 = new_update(ben, "weekly", "queued");
    ah = new_update(boss, "allhands", "queued");
    CHECK_INT(db_job_claim(cat, "w", 2000, 60, 3, "x", &job), DB_OK);
    CHECK_INT(job.update_id, ah);
    CHECK_INT(db_job_claim(cat, "w", 2000, 60, 3, "x", &job), DB_OK);
    CHECK_INT(job.update_id, a1);
    CHECK_INT(db_job_claim(cat, "w", 2000, 60, 3, "x", &job), DB_OK);
    CHECK_INT(job.update_id, b1);
    CHECK_INT(db_job_claim(cat, "w", 2000, 60, 3, "x", &job), DB_OK);
    CHECK_INT(job.update_id, a2);
    CHECK_INT(db_job_claim(cat, "w", 2000, 60, 3, "x", &job), DB_OK);
    CHECK_INT(job.update_id, a3);
}

UNIT_TEST(job_claim_busy)
{
    struct db_job job;

    hold_lock();
    CHECK_INT(db_job_claim(cat, "w", 2000, 60, 3, "x", &job), DB_BUSY);
    release_lock();
}

/* An update with a first job and a ladder job (first-playable on). */
static int64_t new_update_first(int64_t author)
{
    struct db_update_new in = { author, "weekly", "2026-W10", "A title", "words", "/nowhere/input.part",
                                0, 1000, NULL, 0, 1, NULL };
    int64_t id = 0;

    if (cat_begin(cat) < 0 || db_update_insert_queued(cat, &in, &id) != DB_OK || cat_commit(cat) < 0) {
        fprintf(stderr, "new_update_first failed\n");
        exit(2);
    }
    return id;
}

UNIT_TEST(job_claim_first_jobs_before_ladders_by_lane)
{
    struct db_job job;
    int64_t a, b;

    drain_jobs();
    a = new_update_first(ann);
    b = new_update_first(ben);
    /* No ladder starts while a first pass waits. */
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_LADDER, "l", 2000, 60, 3, "x", &job), DB_NOTFOUND);
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_ANY, "w", 2000, 60, 3, "x", &job), DB_OK);
    CHECK(job.first && job.update_id == a);
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_LADDER, "l", 2000, 60, 3, "x", &job), DB_NOTFOUND);
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_FIRST, "f", 2000, 60, 3, "x", &job), DB_OK);
    CHECK(job.first && job.update_id == b);
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_FIRST, "f", 2000, 60, 3, "x", &job), DB_NOTFOUND);
    /* Every first pass under way: the ladders, in their fair order. */
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_LADDER, "l", 2000, 60, 3, "x", &job), DB_OK);
    CHECK(!job.first && job.update_id == a);
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_ANY, "w", 2000, 60, 3, "x", &job), DB_OK);
    CHECK(!job.first && job.update_id == b);
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_ANY, "w", 2000, 60, 3, "x", &job), DB_NOTFOUND);
    /* A first pass whose lease ran out is claimed again before a ladder. */
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_ANY, "w2", 2061, 60, 3, "x", &job), DB_OK);
    CHECK(job.first && job.update_id == a && job.attempts == 2);
}

UNIT_TEST(job_first_slow_shows_on_the_update_while_it_runs)
{
    struct db_viewer v = { boss, 1 };
    struct db_update u;
    struct db_job job;
    int64_t a;

    drain_jobs();
    a = new_update_first(ann);
    CHECK_INT(db_job_claim_lane(cat, DB_LANE_FIRST, "f", 2000, 60, 3, "x", &job), DB_OK);
    CHECK(job.first && job.update_id == a);
    CHECK_INT(db_update_get(cat, &v, a, &u), DB_OK);
    CHECK_INT(u.first_slow, 0);
    CHECK(u.first_eta < 0);
    db_update_free(&u);
    /* Slow (a 4K source), then its eta at the pace it measured. */
    CHECK_INT(db_job_first_slow(cat, job.id, "f", 1, 2001), DB_OK);
    CHECK_INT(db_job_first_slow(cat, job.id, "other", 1, 2001), DB_INVALID);
    CHECK_INT(db_job_heartbeat(cat, job.id, "f", 20, 95, 2002, 60), DB_OK);
    CHECK_INT(db_update_get(cat, &v, a, &u), DB_OK);
    CHECK_INT(u.first_slow, 1);
    CHECK_INT((int)u.first_eta, 95);
    CHECK_INT((int)u.progress, 0);          /* the ladder's, not the pass's */
    db_update_free(&u);
    CHECK_INT(db_job_first_slow(cat, job.id, "f", 0, 2003), DB_OK);
    CHECK_INT(db_update_get(cat, &v, a, &u), DB_OK);
    CHECK_INT(u.first_slow, 0);
    db_update_free(&u);
    /* Once the pass is done nothing is slow; a retried pass starts unsaid. */
    CHECK_INT(db_job_first_slow(cat, job.id, "f", 1, 2004), DB_OK);
    CHECK_INT(db_job_first_done(cat, job.id, "f", 3, 2005), DB_OK);
    CHECK_INT(db_update_get(cat, &v, a, &u), DB_OK);
    CHECK_INT(u.first_slow, 0);
    db_update_free(&u);
    CHECK_INT(db_job_first_slow(cat, job.id, "f", 1, 2006), DB_INVALID);
}

/* A claim made on its own connection in a thread (worker "held"). */
struct held_claim {
    struct catalog *c;
    int rc;
    struct db_job job;
};

static void *held_claim_run(void *arg)
{
    struct held_claim *h = arg;

    h->rc = db_job_claim(h->c, "held", 2000, 60, 3, "x", &h->job);
    return NULL;
}

/* Run sql on conn; 0, or -1 (printed). */
static int pg_do(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Wait (at most 10 s) until a transaction waits for the gate's advisory
 * lock. 0, or -1. */
static int pg_wait_gated(PGconn *conn)
{
    for (int i = 0; i < 1000; i++) {
        PGresult *r = PQexec(conn, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
        long n = -1;
        if (PQresultStatus(r) != PGRES_TUPLES_OK || hc_parse_long(PQgetvalue(r, 0, 0), 0, 1000000, &n) < 0)
            n = -1;
        PQclear(r);
        if (n == 1)
            return 0;
        usleep(10 * 1000);
    }
    return -1;
}

/*
 * PostgreSQL: a claim in the middle of its transaction (its job and update
 * locked and written, not committed) does not hold up another claim, which
 * takes the next job at once. The first claim is stopped inside its
 * transaction by a test trigger that waits for an advisory lock the test
 * holds. SQLite has one write lock: there an open claim transaction makes
 * the other claim wait its turn (DB_BUSY after its busy timeout).
 */
UNIT_TEST(job_claims_side_by_side_on_postgresql)
{
    struct held_claim h = { 0 };
    struct db_job job;
    pthread_t th;
    PGconn *gate;
    char err[256];
    double t0, ms;
    int64_t a, b;

    drain_jobs();
    a = new_update(ann, "weekly", "queued");
    b = new_update(ben, "weekly", "queued");
    if (!dbt_pg_url()) {
        hold_lock();
        CHECK_INT(db_job_claim(cat, "w", 2000, 60, 3, "x", &job), DB_BUSY);
        release_lock();
        CHECK_INT(db_job_claim(cat, "w", 2000, 60, 3, "x", &job), DB_OK);
        CHECK_INT(job.update_id, a);
        return;
    }
    seed("CREATE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
         "IF NEW.worker = 'held' THEN PERFORM pg_advisory_xact_lock(4242); END IF; RETURN NEW; END $$; "
         "CREATE TRIGGER test_gate BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION test_gate()");
    gate = PQconnectdb(dbt_pg_url());
    if (PQstatus(gate) != CONNECTION_OK || pg_do(gate, "SELECT pg_advisory_lock(4242)") < 0 ||
        !(h.c = catalog_open(dbt_pg_url(), 0, err, sizeof(err)))) {
        fprintf(stderr, "cannot set up the held claim\n");
        exit(2);
    }
    pthread_create(&th, NULL, held_claim_run, &h);
    CHECK_INT(pg_wait_gated(gate), 0);
    /* The held claim has a's job and update locked: this one passes them. */
    catalog_busy_timeout(cat, 300);
    t0 = hc_monotonic();
    CHECK_INT(db_job_claim(cat, "w2", 2000, 60, 3, "x", &job), DB_OK);
    ms = (hc_monotonic() - t0) * 1000;
    CHECK_INT(job.update_id, b);
    CHECK_INT(db_job_claim(cat, "w3", 2000, 60, 3, "x", &job), DB_NOTFOUND);
    catalog_busy_timeout(cat, 10000);
    printf("# a claim beside an open one took %.1f ms\n", ms);
    pg_do(gate, "SELECT pg_advisory_unlock(4242)");
    pthread_join(th, NULL);
    CHECK_INT(h.rc, DB_OK);
    CHECK_INT(h.job.update_id, a);
    CHECK_INT(h.job.attempts, 1);
    catalog_close(h.c);
    PQfinish(gate);
    seed("DROP TRIGGER test_gate ON jobs; DROP FUNCTION test_gate()");
    {
        int64_t n = -1;
        CHECK_INT(cat_get_int(cat, &n, "SELECT COUNT(*) FROM jobs WHERE state = 'running' AND attempts = 1 AND "
                                       "((update_id = ? AND worker = 'held') OR (update_id = ? AND worker = 'w2'))",
                              "II", a, b), DB_OK);
        CHECK_INT(n, 2);
    }
}

/* Two workers on connections of their own, claiming and finishing until
 * nothing is left: the claims made, in order, and those that failed. */
#define RACE_JOBS 24
struct racer {
    struct catalog *c;
    const char *id;
    int64_t got[RACE_JOBS + 1];
    int n, failed;
};

static void *racer_run(void *arg)
{
    struct racer *r = arg;
    struct db_ready done = { 1, 2, 2, NULL, 0, 3000 };
    struct db_job job;
    int rc;

    while (r->n <= RACE_JOBS && (rc = db_job_claim(r->c, r->id, 2000, 60, 3, "x", &job)) != DB_NOTFOUND) {
        if (rc != DB_OK || db_job_finish(r->c, job.id, r->id, &done, NULL, NULL) != DB_OK) {
            r->failed++;
            break;
        }
        r->got[r->n++] = job.update_id;
    }
    return NULL;
}

UNIT_TEST(job_claims_by_two_workers_take_each_job_once)
{
    struct racer rs[2] = { { .id = "r1" }, { .id = "r2" } };
    int64_t ids[RACE_JOBS], who[3] = { ann, ben, boss };
    pthread_t th[2];
    char err[256];
    int seen[RACE_JOBS] = { 0 };

    drain_jobs();
    for (int i = 0; i < RACE_JOBS; i++)
        ids[i] = new_update(who[i % 3], "weekly", "queued");
    for (int k = 0; k < 2; k++) {
        if (!(rs[k].c = catalog_open(dbt_target(dbpath), 0, err, sizeof(err)))) {
            fprintf(stderr, "%s\n", err);
            exit(2);
        }
        pthread_create(&th[k], NULL, racer_run, &rs[k]);
    }
    for (int k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
        catalog_close(rs[k].c);
        CHECK_INT(rs[k].failed, 0);
        for (int i = 0; i < rs[k].n; i++)
            for (int j = 0; j < RACE_JOBS; j++)
                if (rs[k].got[i] == ids[j])
                    seen[j]++;
    }
    CHECK_INT(rs[0].n + rs[1].n, RACE_JOBS);
    for (int j = 0; j < RACE_JOBS; j++)
        CHECK_INT(seen[j], 1);
    printf("# claims: %d by one worker, %d by the other\n", rs[0].n, rs[1].n);
}

/* ---- uploads ---- */

UNIT_TEST(upload_create_get_advance_finish)
{
    struct db_upload up = { .user_id = 0, .length = -1, .metadata = "title eA==", .description = "d",
                            .created_at = 1000, .expires_at = 5000 };
    struct db_update_new in = { 0, "weekly", "2026-W10", "From tus", "d", "/up/x.part", 0, 1100, NULL, 0, 0, NULL };
    struct db_upload got;
    int64_t n = -1, uid = 0;

    up.user_id = in.author_id = ann;
    hc_strlcpy(up.id, "upload-one", sizeof(up.id));
    hc_strlcpy(up.kind, "weekly", sizeof(up.kind));
    CHECK_INT(db_upload_create(cat, &up), DB_OK);
    CHECK_INT(db_upload_create(cat, &up), DB_CONSTRAINT);
    CHECK_INT(db_upload_count_open(cat, ann, 1000, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_INT(db_upload_get(cat, "upload-one", ann, &got), DB_OK);
    CHECK_INT(got.length, -1);
    CHECK_STR(got.metadata, "title eA==");
    db_upload_free(&got);
    CHECK_INT(db_upload_get(cat, "upload-one", ben, &got), DB_NOTFOUND);   /* someone else's */
    CHECK_INT(db_upload_set_length(cat, "upload-one", 100), DB_OK);
    CHECK_INT(db_upload_set_length(cat, "upload-one", 200), DB_INVALID);
    CHECK_INT(db_upload_set_length(cat, "nope", 200), DB_NOTFOUND);
    CHECK_INT(db_upload_advance(cat, "upload-one", 0, 60, 6000), DB_OK);
    CHECK_INT(db_upload_advance(cat, "upload-one", 0, 90, 6000), DB_INVALID);  /* moved on */
    CHECK_INT(db_upload_advance(cat, "nope", 0, 90, 6000), DB_NOTFOUND);
    hold_lock();
    CHECK_INT(db_upload_advance(cat, "upload-one", 60, 90, 6000), DB_BUSY);
    release_lock();
    fault(1);
    CHECK_INT(db_upload_advance(cat, "upload-one", 60, 100, 6000), DB_ERROR);
    CHECK_INT(db_upload_get(cat, "upload-one", ann, &got), DB_ERROR);
    CHECK_INT(db_upload_finish(cat, "upload-one", 100, &in, &uid), DB_ERROR);
    CHECK_INT(db_upload_count_open(cat, ann, 1000, &n), DB_ERROR);
    fault(0);
    CHECK_INT(db_upload_advance(cat, "upload-one", 60, 100, 6000), DB_OK);
    CHECK_INT(db_upload_finish(cat, "upload-one", 100, &in, &uid), DB_OK);
    CHECK(uid > 0);
    CHECK_INT(db_upload_finish(cat, "upload-one", 100, &in, &uid), DB_INVALID);
    CHECK_INT(db_upload_finish(cat, "nope", 100, &in, &uid), DB_NOTFOUND);
    CHECK_INT(db_upload_advance(cat, "upload-one", 100, 120, 6000), DB_INVALID);  /* finished */
    CHECK_INT(db_upload_get(cat, "upload-one", ann, &got), DB_OK);
    CHECK_INT(got.update_id, uid);
    CHECK_INT(got.offset, 100);
    db_upload_free(&got);
    CHECK_INT(db_upload_delete(cat, "upload-one"), DB_OK);
    CHECK_INT(db_upload_delete(cat, "upload-one"), DB_NOTFOUND);
}

UNIT_TEST(upload_oneshot_and_expiry)
{
    struct db_upload up = { .length = 10, .offset = 10, .created_at = 1000, .expires_at = 1000 };
    struct db_update_new in = { 0, "weekly", "2026-W10", "One shot", NULL, "/up/y.part", 0, 1000, NULL, 0, 0, NULL };
    char (*ids)[DB_UPLOAD_ID_SIZE];
    size_t n;
    int64_t uid = 0;

    up.user_id = in.author_id = ben;
    hc_strlcpy(up.id, "oneshot-one", sizeof(up.id));
    hc_strlcpy(up.kind, "weekly", sizeof(up.kind));
    hc_strlcpy(up.title, "One shot", sizeof(up.title));
    CHECK_INT(db_upload_oneshot(cat, &up, &in, &uid), DB_OK);
    CHECK(uid > 0);
    CHECK_INT(db_upload_oneshot(cat, &up, &in, &uid), DB_CONSTRAINT);  /* the id is taken */
    hc_strlcpy(up.id, "abandoned", sizeof(up.id));
    up.length = -1;
    CHECK_INT(db_upload_create(cat, &up), DB_OK);
    CHECK_INT(db_upload_expired(cat, 2000, &ids, &n), DB_OK);
    CHECK_INT(n, 1);                    /* finished uploads never expire */
    CHECK_STR(ids[0], "abandoned");
    free(ids);
    fault(1);
    CHECK_INT(db_upload_expired(cat, 2000, &ids, &n), DB_ERROR);
    CHECK_INT(db_upload_delete(cat, "abandoned"), DB_ERROR);
    CHECK_INT(db_upload_create(cat, &up), DB_ERROR);
    CHECK_INT(db_upload_oneshot(cat, &up, &in, &uid), DB_ERROR);
    fault(0);
}

UNIT_TEST(upload_s3_lease_and_record)
{
    struct db_upload up = { .length = 100, .created_at = 1000, .expires_at = 5000 }, rec, got;
    struct db_update_new in = { 0, "weekly", "2026-W10", "In the store", NULL, "/up/s.part", 0, 1100, NULL, 0, 0,
                                NULL };
    char mpu[256];
    int64_t uid = 0;

    up.user_id = in.author_id = ann;
    hc_strlcpy(up.id, "in-store", sizeof(up.id));
    hc_strlcpy(up.kind, "weekly", sizeof(up.kind));
    hc_strlcpy(up.s3_upload_id, "mpu-1", sizeof(up.s3_upload_id));
    CHECK_INT(db_upload_create(cat, &up), DB_OK);
    CHECK_INT(db_upload_s3_id(cat, "in-store", mpu, sizeof(mpu)), DB_OK);
    CHECK_STR(mpu, "mpu-1");
    CHECK_INT(db_upload_s3_id(cat, "nope", mpu, sizeof(mpu)), DB_NOTFOUND);
    CHECK_INT(db_upload_s3_known(cat, "mpu-1"), DB_OK);
    CHECK_INT(db_upload_s3_known(cat, "mpu-2"), DB_NOTFOUND);

    /* One holder at a time; a lapsed lease may be taken over. */
    CHECK_INT(db_upload_lease_take(cat, "in-store", "tok-a", 1000, 1010), DB_OK);
    CHECK_INT(db_upload_lease_take(cat, "in-store", "tok-b", 1005, 1015), DB_INVALID);
    CHECK_INT(db_upload_lease_take(cat, "nope", "tok-b", 1005, 1015), DB_NOTFOUND);
    CHECK_INT(db_upload_lease_renew(cat, "in-store", "tok-a", 1020), DB_OK);
    CHECK_INT(db_upload_lease_take(cat, "in-store", "tok-b", 1015, 1025), DB_INVALID);
    CHECK_INT(db_upload_lease_take(cat, "in-store", "tok-b", 1020, 1030), DB_OK);   /* lapsed */
    CHECK_INT(db_upload_lease_renew(cat, "in-store", "tok-a", 1040), DB_INVALID);   /* taken over */

    /* Parts and tail are recorded only by the holder, from the offset it expects. */
    memset(&rec, 0, sizeof(rec));
    rec.offset = 60;
    rec.s3_parts = 1;
    rec.s3_etags = "1:\"e1\"";
    rec.s3_tail = 10;
    hc_strlcpy(rec.s3_tail_name, "t1", sizeof(rec.s3_tail_name));
    CHECK_INT(db_upload_s3_commit(cat, "in-store", "tok-a", 0, &rec, 6000), DB_INVALID);
    CHECK_INT(db_upload_s3_commit(cat, "in-store", "tok-b", 5, &rec, 6000), DB_INVALID);
    CHECK_INT(db_upload_s3_commit(cat, "nope", "tok-b", 0, &rec, 6000), DB_NOTFOUND);
    CHECK_INT(db_upload_s3_commit(cat, "in-store", "tok-b", 0, &rec, 6000), DB_OK);
    CHECK_INT(db_upload_s3_commit(cat, "in-store", "tok-b", 0, &rec, 6000), DB_INVALID);   /* moved on */
    /* Part numbers are handed out once, by the holder only. */
    CHECK_INT(db_upload_s3_number(cat, "in-store", "tok-b", 1030), DB_OK);
    CHECK_INT(db_upload_s3_number(cat, "in-store", "tok-b", 1030), DB_OK);
    CHECK_INT(db_upload_s3_number(cat, "in-store", "tok-a", 1030), DB_INVALID);
    CHECK_INT(db_upload_s3_number(cat, "nope", "tok-b", 1030), DB_NOTFOUND);
    CHECK_INT(db_upload_get(cat, "in-store", ann, &got), DB_OK);
    CHECK_INT(got.s3_last_number, 2);
    CHECK_INT(got.offset, 60);
    CHECK_INT(got.s3_parts, 1);
    CHECK_STR(got.s3_etags, "1:\"e1\"");
    CHECK_INT(got.s3_tail, 10);
    CHECK_STR(got.s3_tail_name, "t1");
    CHECK_INT(got.expires_at, 6000);
    db_upload_free(&got);
    CHECK_INT(db_upload_lease_release(cat, "in-store", "tok-a"), DB_OK);    /* not ours: nothing */
    CHECK_INT(db_upload_lease_take(cat, "in-store", "tok-c", 1021, 1031), DB_INVALID);
    CHECK_INT(db_upload_lease_release(cat, "in-store", "tok-b"), DB_OK);
    CHECK_INT(db_upload_lease_take(cat, "in-store", "tok-c", 1021, 1031), DB_OK);
    fault(1);
    CHECK_INT(db_upload_lease_take(cat, "in-store", "tok-d", 2000, 2010), DB_ERROR);
    CHECK_INT(db_upload_s3_commit(cat, "in-store", "tok-c", 60, &rec, 6000), DB_ERROR);
    CHECK_INT(db_upload_s3_known(cat, "mpu-1"), DB_ERROR);
    fault(0);

    /* A finished upload takes no lease. */
    CHECK_INT(db_upload_finish(cat, "in-store", 100, &in, &uid), DB_OK);
    CHECK_INT(db_upload_lease_take(cat, "in-store", "tok-d", 2000, 2010), DB_INVALID);
    CHECK_INT(db_upload_delete(cat, "in-store"), DB_OK);
}

/* ---- social ---- */

UNIT_TEST(views_comments_reactions)
{
    int64_t id = new_update(ann, "weekly", "ready"), cid = 0, owner = 0;
    struct db_view view, *views;
    struct db_comment m, *ml;
    struct db_reaction x, other, *xl;
    size_t n;
    int created = -1;

    CHECK_INT(db_view_get(cat, id, ben, &view), DB_NOTFOUND);
    CHECK_INT(db_view_record(cat, id, ben, 2000, 5.0, 0, &view), DB_OK);
    CHECK_INT(db_view_record(cat, id, ben, 2001, 2.0, 1, &view), DB_OK);
    CHECK(view.position == 5.0);        /* never moves back */
    CHECK_INT(view.completed, 1);
    CHECK_INT(db_view_record(cat, 999999, ben, 2001, 2.0, 0, &view), DB_CONSTRAINT);
    CHECK_INT(db_view_list(cat, id, &views, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_STR(views[0].user_name, "Ben");
    free(views);

    CHECK_INT(db_comment_add(cat, id, ben, 1.5, "Nice", 2000, NULL, NULL, &cid), DB_OK);
    CHECK_INT(db_comment_add(cat, 999999, ben, -1, "x", 2000, NULL, NULL, &cid), DB_CONSTRAINT);
    ready_hook_calls = 0;
    CHECK(db_comment_add(cat, id, ben, -1, "aborted", 2000, ready_hook, (void *)1, &owner) < 0);
    CHECK_INT(ready_hook_calls, 1);
    CHECK_INT(db_comment_list(cat, id, &ml, &n), DB_OK);
    CHECK_INT(n, 1);                    /* the aborted one left nothing */
    CHECK_STR(ml[0].body, "Nice");
    CHECK_INT(ml[0].has_at, 1);
    db_comment_list_free(&ml, n);
    CHECK_INT(db_comment_get(cat, cid, &m), DB_OK);
    CHECK_STR(m.user_name, "Ben");
    db_comment_free(&m);
    CHECK_INT(db_comment_owner(cat, cid, &owner), DB_OK);
    CHECK_INT(owner, ben);
    CHECK_INT(db_comment_delete(cat, cid), DB_OK);
    CHECK_INT(db_comment_delete(cat, cid), DB_NOTFOUND);
    CHECK_INT(db_comment_get(cat, cid, &m), DB_NOTFOUND);
    CHECK_INT(db_comment_owner(cat, cid, &owner), DB_NOTFOUND);

    CHECK_INT(db_reaction_add(cat, id, ben, "\xf0\x9f\x8e\x89", -1, 2000, &x, &created), DB_OK);
    CHECK_INT(created, 1);
    CHECK_INT(db_reaction_add(cat, id, ben, "\xf0\x9f\x8e\x89", 3, 2001, &x, &created), DB_OK);
    CHECK_INT(created, 0);
    CHECK_INT(x.has_at, 0);             /* the first one stays */
    CHECK_INT(db_reaction_add(cat, 999999, ben, "x", -1, 2000, &other, &created), DB_CONSTRAINT);
    CHECK_INT(db_reaction_list(cat, id, &xl, &n), DB_OK);
    CHECK_INT(n, 1);
    free(xl);
    CHECK_INT(db_reaction_owner(cat, x.id, &owner), DB_OK);
    CHECK_INT(db_reaction_delete(cat, x.id), DB_OK);
    CHECK_INT(db_reaction_delete(cat, x.id), DB_NOTFOUND);

    fault(1);
    CHECK_INT(db_view_record(cat, id, ben, 2000, 1, 0, &view), DB_ERROR);
    CHECK_INT(db_view_get(cat, id, ben, &view), DB_ERROR);
    CHECK_INT(db_view_list(cat, id, &views, &n), DB_ERROR);
    CHECK_INT(db_comment_add(cat, id, ben, -1, "x", 2000, NULL, NULL, &cid), DB_ERROR);
    CHECK_INT(db_comment_list(cat, id, &ml, &n), DB_ERROR);
    CHECK_INT(db_comment_delete(cat, 1), DB_ERROR);
    CHECK_INT(db_reaction_add(cat, id, ben, "x", -1, 2000, &x, &created), DB_ERROR);
    CHECK_INT(db_reaction_list(cat, id, &xl, &n), DB_ERROR);
    CHECK_INT(db_reaction_delete(cat, 1), DB_ERROR);
    CHECK_INT(db_rendition_list(cat, id, (struct db_rendition **)&xl, &n), DB_ERROR);
    fault(0);
}

/* ---- kind, answers, mentions (migration 005) ---- */

static int hook_rc;
static int change_hook(struct catalog *c, int64_t id, void *arg)
{
    (void)c;
    (void)id;
    (void)arg;
    return hook_rc;
}

UNIT_TEST(change_kind_answers_found_notfound_busy_error)
{
    int64_t id = new_update(ann, "weekly", "queued"), prio = -1;
    struct db_answer a[2] = { { "What I did", "Shipped" }, { "Where I'm going", "Trim" } }, *got;
    struct db_update_change ch = { .kind = "allhands", .priority = 10, .set_answers = 1, .answers = a,
                                   .nanswers = 2, .now = 3000 };
    struct db_viewer v = { boss, 1 };
    struct db_update u;
    size_t n;

    hook_rc = 0;
    CHECK_INT(db_update_change(cat, id, &ch, change_hook, NULL), DB_OK);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.kind, "allhands");
    CHECK_STR(u.title, "A title");      /* NULL left it as it was */
    db_update_free(&u);
    CHECK_INT(cat_get_int(cat, &prio, "SELECT priority FROM jobs WHERE update_id = ?", "I", id), DB_OK);
    CHECK_INT(prio, 10);
    CHECK_INT(db_update_answers(cat, id, &got, &n), DB_OK);
    CHECK_INT(n, 2);
    CHECK(n == 2 && !strcmp(got[1].prompt, "Where I'm going") && !strcmp(got[1].text, "Trim"));
    free(got);
    /* A failing hook undoes everything. */
    hook_rc = DB_FULL;
    ch.kind = "weekly";
    ch.nanswers = 0;
    CHECK_INT(db_update_change(cat, id, &ch, change_hook, NULL), DB_FULL);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.kind, "allhands");
    db_update_free(&u);
    CHECK_INT(db_update_answers(cat, id, &got, &n), DB_OK);
    CHECK_INT(n, 2);
    free(got);
    CHECK_INT(db_update_change(cat, 999999, &ch, NULL, NULL), DB_NOTFOUND);
    hold_lock();
    CHECK_INT(db_update_change(cat, id, &ch, NULL, NULL), DB_BUSY);
    release_lock();
    fault(1);
    CHECK_INT(db_update_change(cat, id, &ch, NULL, NULL), DB_ERROR);
    CHECK_INT(db_update_answers(cat, id, &got, &n), DB_ERROR);
    CHECK(got == NULL && n == 0);
    fault(0);
    CHECK_INT(db_update_change(cat, id, &ch, NULL, NULL), DB_OK);   /* no answers now */
    CHECK_INT(db_update_answers(cat, id, &got, &n), DB_OK);
    CHECK_INT(n, 0);
    free(got);
}

UNIT_TEST(mentions_once_per_source_and_kudos_follow_visibility)
{
    int64_t id = new_update(ann, "weekly", "ready"), hidden = new_update(ann, "weekly", "processing"), cid = 0;
    struct db_mention_new m = { .user_id = ben, .by_user = ann, .update_id = id, .source = "update:x",
                                .excerpt = "thanks @ben", .now = 4000 };
    struct db_viewer as_ben = { ben, 0 }, as_boss = { boss, 1 };
    struct db_mention_person *pp;
    struct db_mention *ks;
    struct db_kudos *k;
    struct db_view view;
    struct db_update u;
    size_t n;
    int created = -1;

    CHECK_INT(db_mention_add(cat, &m, &created), DB_OK);
    CHECK_INT(created, 1);
    CHECK_INT(db_mention_add(cat, &m, &created), DB_OK);
    CHECK_INT(created, 0);              /* once per person and source */
    CHECK_INT(db_comment_add(cat, id, boss, -1, "well done @ben", 4001, NULL, NULL, &cid), DB_OK);
    m.by_user = boss;
    m.comment_id = cid;
    m.source = "comment:x";
    m.now = 4001;
    CHECK_INT(db_mention_add(cat, &m, &created), DB_OK);
    CHECK_INT(created, 1);
    m.user_id = 999999;
    CHECK_INT(db_mention_add(cat, &m, &created), DB_CONSTRAINT);
    m.user_id = ben;
    m.update_id = hidden;
    m.comment_id = 0;
    m.source = "update:hidden";
    CHECK_INT(db_mention_add(cat, &m, &created), DB_OK);
    CHECK_INT(db_mention_list_update(cat, id, &ks, &n), DB_OK);
    CHECK_INT(n, 2);
    CHECK(n == 2 && ks[1].comment_id == cid && !strcmp(ks[1].by_name, "Boss") && !strcmp(ks[0].status, "ready"));
    free(ks);
    CHECK_INT(db_update_kudos(cat, &as_ben, ben, &k, &n), DB_OK);
    CHECK_INT(n, 2);                    /* not the one ben may not see yet */
    CHECK(n == 2 && k[0].comment_id == cid && k[1].comment_id == 0 && !strcmp(k[1].excerpt, "thanks @ben"));
    free(k);
    CHECK_INT(db_update_kudos(cat, &as_boss, ben, &k, &n), DB_OK);
    CHECK_INT(n, 3);
    free(k);
    CHECK_INT(db_update_kudos(cat, &as_boss, ann, &k, &n), DB_OK);
    CHECK_INT(n, 0);
    free(k);
    CHECK_INT(db_mention_people(cat, &pp, &n), DB_OK);
    CHECK_INT(n, 3);
    free(pp);
    /* The author's own opening is not a view. */
    CHECK_INT(db_view_record(cat, id, ann, 4002, 1, 0, &view), DB_OK);
    CHECK_INT(db_update_get(cat, &as_boss, id, &u), DB_OK);
    CHECK_INT(u.views_count, 0);
    db_update_free(&u);
    hold_lock();
    m.source = "update:busy";
    CHECK_INT(db_mention_add(cat, &m, &created), DB_BUSY);
    release_lock();
    fault(1);
    CHECK_INT(db_mention_add(cat, &m, &created), DB_ERROR);
    CHECK_INT(db_mention_list_update(cat, id, &ks, &n), DB_ERROR);
    CHECK_INT(db_update_kudos(cat, &as_ben, ben, &k, &n), DB_ERROR);
    CHECK(k == NULL && n == 0);
    CHECK_INT(db_mention_people(cat, &pp, &n), DB_ERROR);
    fault(0);
}

/* ---- migration 003 on an existing catalog ---- */

UNIT_TEST(migration_003_keeps_rows_and_references)
{
    char path[400], err[256], sql[256];
    struct catalog *c;
    sqlite3 *db;
    int64_t v = 0;
    int rc;

    if (dbt_pg_url())       /* SQLite files and SQLite's migrations */
        return;
    snprintf(path, sizeof(path), "%s/old.db", tmp);
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA foreign_keys=ON; CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                     "name TEXT NOT NULL, applied_at INTEGER NOT NULL)", NULL, NULL, NULL);
    for (const struct migration *m = catalog_migrations; m->sql && m->version <= 2; m++) {
        CHECK_INT(sqlite3_exec(db, m->sql, NULL, NULL, NULL), SQLITE_OK);
        snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, '%s', 0)", m->version, m->name);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    rc = sqlite3_exec(db,
        "INSERT INTO users(id, email, name, created_at) VALUES (1, 'a@x', 'A', 0), (2, 'b@x', 'B', 0);"
        "INSERT INTO updates(id, author_id, iso_week, status, created_at, updated_at) VALUES "
        " (1, 1, '2026-W01', 'ready', 0, 0), (7, 2, '2026-W01', 'queued', 0, 0);"
        "INSERT INTO renditions VALUES (1, 1, '360p', 640, 360, 1, 1, 'c');"
        "INSERT INTO jobs(id, update_id, input_path, created_at, updated_at) VALUES (3, 7, 'p', 0, 0);"
        "INSERT INTO views VALUES (1, 2, 0, 0, 1.5, 1);"
        "INSERT INTO comments VALUES (4, 1, 2, NULL, 'hi', 0);"
        "INSERT INTO reactions VALUES (5, 1, 2, 'x', NULL, 0);"
        "INSERT INTO uploads(id, user_id, update_id, created_at, expires_at) VALUES ('u1', 1, 1, 0, 0);",
        NULL, NULL, NULL);
    CHECK_INT(rc, SQLITE_OK);
    sqlite3_close(db);

    c = catalog_open(path, 1, err, sizeof(err));
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_INT(catalog_schema_version(c), catalog_latest_version());
    CHECK_INT(cat_get_int(c, &v, "SELECT COUNT(*) FROM renditions WHERE update_id = 1", ""), DB_OK);
    CHECK_INT(v, 1);
    CHECK_INT(cat_get_int(c, &v, "SELECT COUNT(*) FROM views JOIN comments USING (update_id) "
                                 "JOIN reactions USING (update_id) WHERE update_id = 1", ""), DB_OK);
    CHECK_INT(v, 1);
    CHECK_INT(cat_get_int(c, &v, "SELECT update_id FROM jobs WHERE id = 3", ""), DB_OK);
    CHECK_INT(v, 7);
    CHECK_INT(cat_get_int(c, &v, "SELECT update_id FROM uploads WHERE id = 'u1'", ""), DB_OK);
    CHECK_INT(v, 1);
    CHECK_INT(cat_get_int(c, &v, "SELECT COUNT(*) FROM updates WHERE length(nonce) = 32", ""), DB_OK);
    CHECK_INT(v, 2);
    /* The references still cascade to the rebuilt table. */
    CHECK_INT(cat_exec(c, "DELETE FROM updates WHERE id = 1", ""), 1);
    CHECK_INT(cat_get_int(c, &v, "SELECT COUNT(*) FROM comments", ""), DB_OK);
    CHECK_INT(v, 0);
    CHECK_INT(cat_get_int(c, &v, "SELECT COUNT(*) FROM uploads WHERE update_id IS NULL", ""), DB_OK);
    CHECK_INT(v, 1);
    /* And the highest id ever given is never given again. */
    CHECK_INT(cat_exec(c, "DELETE FROM updates WHERE id = 7", ""), 1);
    CHECK_INT(cat_insert(c, "INSERT INTO updates(author_id, iso_week, created_at, updated_at) "
                            "VALUES (1, 'w', 0, 0)", ""), 8);
    catalog_close(c);
}

/* ---- trims and media versions (db_trim.h) ---- */

UNIT_TEST(trim_rides_along_then_makes_new_versions)
{
    struct db_rendition rung = { "360p", 640, 360, 900000, 800000, "avc1.64001e,mp4a.40.2" };
    struct db_ready r = { 30.0, 640, 360, &rung, 1, 5000 };
    struct db_viewer v = { boss, 1 };
    struct db_job job, job2, job3;
    struct db_job_media jm;
    struct db_media m;
    struct db_update u;
    int64_t id;
    int version, prev;

    drain_jobs();
    id = new_update(ann, "weekly", "queued");
    CHECK_INT(db_update_trim(cat, 999999, 0, 1, 2, 4000, &version), DB_NOTFOUND);
    /* Before the ladder starts, the trim rides along with its job. */
    CHECK_INT(db_update_trim(cat, id, 0, 2.5, 12.5, 4000, &version), DB_OK);
    CHECK_INT(version, 0);
    CHECK_INT(db_job_claim(cat, "w1", 4001, 60, 3, "used up", &job), DB_OK);
    CHECK_INT(db_job_media(cat, job.id, &jm), DB_OK);
    CHECK_INT(jm.version, 0);
    CHECK(jm.trimmed && jm.trim_start == 2.5 && jm.trim_end == 12.5);
    r.duration = 10.0;
    ready_hook_calls = 0;
    CHECK_INT(db_job_finish_media(cat, job.id, "w1", &r, 0, 30.0, ready_hook, NULL, &prev), DB_OK);
    CHECK_INT(ready_hook_calls, 1);
    CHECK_INT(db_update_media_state(cat, id, &m), DB_OK);
    CHECK_INT(m.version, 0);
    CHECK(m.trimmed && m.trim_start == 2.5 && m.source_duration == 30.0 && !m.making);

    /* Trimmed again once ready: a new job for version 1; still ready. */
    CHECK_INT(db_update_trim(cat, id, 0, 5, 25, 5001, &version), DB_OK);
    CHECK_INT(version, 1);
    CHECK_INT(db_job_claim(cat, "w1", 5002, 60, 3, "used up", &job2), DB_OK);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.status, "ready");
    db_update_free(&u);
    CHECK_INT(db_update_media_state(cat, id, &m), DB_OK);
    CHECK(m.version == 0 && m.latest == 1 && m.making);
    /* ... and again while that one runs: version 2 makes version 1 stale. */
    CHECK_INT(db_update_trim(cat, id, 1, 0, 0, 5003, &version), DB_OK);
    CHECK_INT(version, 2);
    CHECK_INT(db_job_finish_media(cat, job2.id, "w1", &r, 1, 30.0, ready_hook, NULL, &prev), DB_NOTFOUND);
    CHECK_INT(db_update_media_state(cat, id, &m), DB_OK);
    CHECK(m.version == 0 && !m.trimmed);
    CHECK_INT(db_job_claim(cat, "w2", 5004, 60, 3, "used up", &job3), DB_OK);
    CHECK_INT(db_job_media(cat, job3.id, &jm), DB_OK);
    CHECK(jm.version == 2 && !jm.trimmed);
    CHECK_INT(db_job_finish_media(cat, job3.id, "w1", &r, 2, 30.0, ready_hook, NULL, &prev), DB_INVALID);
    r.duration = 30.0;
    ready_hook_calls = 0;
    CHECK_INT(db_job_finish_media(cat, job3.id, "w2", &r, 2, 30.0, ready_hook, NULL, &prev), DB_OK);
    CHECK_INT(ready_hook_calls, 0);     /* it was ready already: no second mail */
    CHECK_INT(prev, 0);
    CHECK_INT(db_update_media_state(cat, id, &m), DB_OK);
    CHECK(m.version == 2 && m.latest == 2 && !m.making);
    CHECK_INT(db_update_get(cat, &v, id, &u), DB_OK);
    CHECK_STR(u.status, "ready");
    CHECK(u.duration == 30.0);
    db_update_free(&u);
    fault(1);
    CHECK_INT(db_update_trim(cat, id, 0, 1, 5, 6000, &version), DB_ERROR);
    fault(0);
    hold_lock();
    CHECK_INT(db_update_trim(cat, id, 0, 1, 5, 6000, &version), DB_BUSY);
    release_lock();
    CHECK_INT(db_update_media_state(cat, id, &m), DB_OK);
    CHECK(!m.trimmed && m.latest == 2);
}

/* ---- a page of a list: one statement per kind, the same as one by one ---- */

UNIT_TEST(page_reads_answer_as_the_one_update_reads)
{
    int64_t a = new_update(ann, "weekly", "ready"), b = new_update(ben, "weekly", "ready");
    int64_t ids[5] = { b, 999999, a, 0, b };
    struct db_answer ans[2] = { { "What I did", "Shipped \"it\"" }, { "Next", "More" } };
    struct db_update_change ch = { .set_answers = 1, .answers = ans, .nanswers = 2, .now = 3000 };
    struct db_rendition_of *ro;
    struct db_answer_of *ao;
    struct db_view views[5], one;
    struct db_media media[5], m;
    int found[5], ver = -1;
    size_t n;
    char sql[400];

    ids[3] = a;
    snprintf(sql, sizeof(sql), "INSERT INTO renditions(update_id, name, width, height, bandwidth, avg_bandwidth, "
             "codecs) VALUES (%lld, '360p', 640, 360, 9, 8, 'c'), (%lld, '720p', 1280, 720, 30, 25, 'c'), "
             "(%lld, '480p', 854, 480, 12, 11, 'c')", (long long)a, (long long)a, (long long)b);
    seed(sql);
    CHECK_INT(db_update_change(cat, a, &ch, NULL, NULL), DB_OK);
    CHECK_INT(db_view_record(cat, b, ben, 2000, 7.5, 1, &one), DB_OK);
    CHECK_INT(db_update_trim(cat, a, 0, 1, 2, 4000, &ver), DB_OK);

    /* Renditions: grouped in the order asked, each update's tallest first. */
    CHECK_INT(db_rendition_lists(cat, ids, 5, &ro, &n), DB_OK);
    CHECK_INT(n, 6);
    CHECK(n == 6 && ro[0].i == 0 && !strcmp(ro[0].r.name, "480p") && ro[0].r.bandwidth == 12);
    CHECK(n == 6 && ro[1].i == 2 && !strcmp(ro[1].r.name, "720p") && ro[1].r.avg_bandwidth == 25);
    CHECK(n == 6 && ro[2].i == 2 && !strcmp(ro[2].r.name, "360p") && ro[2].r.width == 640);
    CHECK(n == 6 && ro[3].i == 3 && !strcmp(ro[3].r.name, "720p") && ro[4].i == 3);
    CHECK(n == 6 && ro[5].i == 4 && !strcmp(ro[5].r.name, "480p"));
    free(ro);
    CHECK_INT(db_rendition_lists(cat, ids, 0, &ro, &n), DB_OK);
    CHECK(ro == NULL && n == 0);

    /* Answers: in the order given, under the right update only. */
    CHECK_INT(db_update_answers_of(cat, ids, 5, &ao, &n), DB_OK);
    CHECK_INT(n, 4);
    CHECK(n == 4 && ao[0].i == 2 && !strcmp(ao[0].a.prompt, "What I did") && !strcmp(ao[0].a.text, "Shipped \"it\""));
    CHECK(n == 4 && ao[1].i == 2 && !strcmp(ao[1].a.text, "More"));
    CHECK(n == 4 && ao[2].i == 3 && ao[3].i == 3);
    free(ao);

    /* The viewer's progress: only where they watched. */
    CHECK_INT(db_view_gets(cat, ids, 5, ben, views, found), DB_OK);
    CHECK(found[0] && !found[1] && !found[2] && !found[3] && found[4]);
    CHECK(views[0].position == 7.5 && views[0].completed && views[0].update_id == b);
    CHECK_STR(views[4].user_name, "Ben");
    CHECK_INT(db_view_gets(cat, ids, 5, ann, views, found), DB_OK);
    CHECK(!found[0] && !found[4]);

    /* Media states: the same as one by one; none for an update that is not. */
    CHECK_INT(db_update_media_states(cat, ids, 5, media, found), DB_OK);
    CHECK(found[0] && !found[1] && found[2] && found[3] && found[4]);
    CHECK_INT(db_update_media_state(cat, a, &m), DB_OK);
    CHECK(!memcmp(&m, &media[2], sizeof(m)) && !memcmp(&m, &media[3], sizeof(m)));
    CHECK(media[2].trimmed && media[2].trim_start == 1 && media[2].trim_end == 2);
    CHECK_INT(db_update_media_state(cat, b, &m), DB_OK);
    CHECK(!memcmp(&m, &media[0], sizeof(m)) && !media[0].trimmed);
    CHECK_INT(media[1].version, 0);

    /* The updates themselves, as db_update_get shows them to each viewer. */
    {
        int64_t hid = new_update(ann, "weekly", "processing"), more[3] = { hid, a, 999999 };
        struct db_viewer as_ben = { ben, 0 }, as_boss = { boss, 1 };
        struct db_update got[3], one1;
        CHECK_INT(db_update_gets(cat, &as_ben, more, 3, got, found), DB_OK);
        CHECK(!found[0] && found[1] && !found[2]);
        CHECK_INT(db_update_get(cat, &as_ben, a, &one1), DB_OK);
        CHECK(got[1].id == a && !strcmp(got[1].title, one1.title) && !strcmp(got[1].author_name, "Ann") &&
              got[1].views_count == one1.views_count && !strcmp(got[1].description, one1.description));
        db_update_free(&one1);
        for (size_t i = 0; i < 3; i++)
            db_update_free(&got[i]);
        CHECK_INT(db_update_gets(cat, &as_boss, more, 3, got, found), DB_OK);
        CHECK(found[0] && found[1] && !found[2] && !strcmp(got[0].status, "processing"));
        for (size_t i = 0; i < 3; i++)
            db_update_free(&got[i]);
        fault(1);
        CHECK_INT(db_update_gets(cat, &as_boss, more, 3, got, found), DB_ERROR);
        CHECK(!found[0] && !found[1]);
        fault(0);
    }

    fault(1);
    CHECK_INT(db_rendition_lists(cat, ids, 5, &ro, &n), DB_ERROR);
    CHECK(ro == NULL && n == 0);
    CHECK_INT(db_update_answers_of(cat, ids, 5, &ao, &n), DB_ERROR);
    CHECK(ao == NULL && n == 0);
    CHECK_INT(db_view_gets(cat, ids, 5, ben, views, found), DB_ERROR);
    CHECK(!found[0] && !found[4]);
    CHECK_INT(db_update_media_states(cat, ids, 5, media, found), DB_ERROR);
    CHECK(!found[0]);
    fault(0);
}

int main(void)
{
    char err[256];

    snprintf(tmp, sizeof(tmp), "%s/hubcast-dbu-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp))
        return 2;
    snprintf(dbpath, sizeof(dbpath), "%s/hubcast.db", tmp);
    snprintf(faultpath, sizeof(faultpath), "%s/fault", tmp);
    setenv("HUBCAST_CATALOG_FAULT", faultpath, 1);
    catalog_fault_init(1);
    if (dbt_pg_url())
        dbt_pg_reset();
    if (!(cat = catalog_open(dbt_target(dbpath), 1, err, sizeof(err)))) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    seed("INSERT INTO users(id, email, name, role, created_at) VALUES "
         "(1, 'ann@x', 'Ann', 'member', 0), (2, 'ben@x', 'Ben', 'member', 0), (3, 'boss@x', 'Boss', 'admin', 0)");
    ann = 1;
    ben = 2;
    boss = 3;
    unit_run(visibility_member_sees_ready_and_own_admin_all, "visibility_member_sees_ready_and_own_admin_all");
    unit_run(list_status_filter_never_widens_visibility, "list_status_filter_never_widens_visibility");
    unit_run(week_people_posted_and_missing, "week_people_posted_and_missing");
    unit_run(media_needs_a_ready_update, "media_needs_a_ready_update");
    unit_run(edit_found_notfound_busy_error, "edit_found_notfound_busy_error");
    unit_run(insert_queued_constraint, "insert_queued_constraint");
    unit_run(delete_returns_inputs_and_ids_are_never_reused, "delete_returns_inputs_and_ids_are_never_reused");
    unit_run(job_claim_heartbeat_finish, "job_claim_heartbeat_finish");
    unit_run(job_fail_release_and_lease, "job_fail_release_and_lease");
    unit_run(job_attempts_used_up_and_deleted_update_dropped, "job_attempts_used_up_and_deleted_update_dropped");
    unit_run(job_claim_order_allhands_then_fair_turns, "job_claim_order_allhands_then_fair_turns");
    unit_run(job_claim_busy, "job_claim_busy");
    unit_run(job_claim_first_jobs_before_ladders_by_lane, "job_claim_first_jobs_before_ladders_by_lane");
    unit_run(job_first_slow_shows_on_the_update_while_it_runs, "job_first_slow_shows_on_the_update_while_it_runs");
    unit_run(job_claims_side_by_side_on_postgresql, "job_claims_side_by_side_on_postgresql");
    unit_run(job_claims_by_two_workers_take_each_job_once, "job_claims_by_two_workers_take_each_job_once");
    unit_run(upload_create_get_advance_finish, "upload_create_get_advance_finish");
    unit_run(upload_oneshot_and_expiry, "upload_oneshot_and_expiry");
    unit_run(upload_s3_lease_and_record, "upload_s3_lease_and_record");
    unit_run(views_comments_reactions, "views_comments_reactions");
    unit_run(change_kind_answers_found_notfound_busy_error, "change_kind_answers_found_notfound_busy_error");
    unit_run(mentions_once_per_source_and_kudos_follow_visibility,
             "mentions_once_per_source_and_kudos_follow_visibility");
    unit_run(migration_003_keeps_rows_and_references, "migration_003_keeps_rows_and_references");
    unit_run(trim_rides_along_then_makes_new_versions, "trim_rides_along_then_makes_new_versions");
    unit_run(page_reads_answer_as_the_one_update_reads, "page_reads_answer_as_the_one_update_reads");
    catalog_close(cat);
    {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmp);
    }
    return unit_done();
}
