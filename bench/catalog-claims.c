/*
 * catalog-claims.c - the catalog half of bench/catalog: seeds a catalog
 * (a SQLite file or a postgresql:// URL, through catalog_open and its
 * migrations) with a realistic company, and measures transcode job claims
 * per second through the data layer the workers use (db_job_claim and
 * db_job_finish), with one or more claimers at once, each on its own
 * connection in its own thread, as worker processes each have theirs.
 * Not a test: it prints numbers and fails only when the catalog does.
 *
 *   catalog-claims seed DB PEOPLE WEEKS
 *       PEOPLE people (p<i>@bench.example) posting in WEEKS ISO weeks
 *       from 2026-W01, three weeks in four each, every update ready with
 *       its done ladder job, two renditions, two views and a comment.
 *   catalog-claims claims DB JOBS CLAIMERS
 *       queue JOBS uploads (authors in turn), then CLAIMERS threads claim
 *       and finish jobs until none is left. Prints one line:
 *       "claimers C jobs N seconds S claims_per_s R busy B".
 *
 * The password of a postgresql:// URL comes from PGPASSWORD.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "db_updates.h"
#include "util.h"

#define MAX_CLAIMERS 16
#define T0 1767225600           /* 2026-01-01T00:00:00Z */

static const char *db_url;

static struct catalog *open_catalog(int migrate)
{
    char err[512];
    struct catalog *c = catalog_open(db_url, migrate, err, sizeof(err));

    if (!c) {
        fprintf(stderr, "catalog-claims: %s\n", err);
        exit(1);
    }
    return c;
}

static void must(int ok, struct catalog *c, const char *what)
{
    if (!ok) {
        fprintf(stderr, "catalog-claims: %s: %s\n", what, cat_errmsg(c));
        exit(1);
    }
}

/* One ready update of person p in week w, with what a transcoded and
 * watched update has in the catalog. */
static void seed_update(struct catalog *c, int64_t p, int people, int w)
{
    char week[24], title[96];
    int64_t at = T0 + (int64_t)w * 7 * 86400 + p * 60, id;

    snprintf(week, sizeof(week), "2026-W%02d", w + 1);
    snprintf(title, sizeof(title), "Week %d of person %lld", w + 1, (long long)p);
    id = cat_insert(c, "INSERT INTO updates(author_id, kind, iso_week, title, description, status, duration, "
                       "width, height, created_at, updated_at, ready_at, published_at) "
                       "VALUES (?, 'weekly', ?, ?, 'What I did, what I learned, where I am going.', 'ready', "
                       "95.5, 1280, 720, ?, ?, ?, ?)", "IssIIII", p, week, title, at, at, at + 120, at);
    must(id > 0, c, "an update");
    must(cat_exec(c, "INSERT INTO jobs(update_id, kind, input_path, state, attempts, progress, created_at, "
                     "updated_at) VALUES (?, 'ladder', '/data/uploads/x.part', 'done', 1, 100, ?, ?)",
                  "III", id, at, at + 120) == 1, c, "a job");
    must(cat_exec(c, "INSERT INTO renditions(update_id, name, width, height, bandwidth, avg_bandwidth, codecs) "
                     "VALUES (?, '360p', 640, 360, 900000, 800000, 'avc1.64001e,mp4a.40.2'), "
                     "(?, '720p', 1280, 720, 3000000, 2500000, 'avc1.64001f,mp4a.40.2')",
                  "II", id, id) == 2, c, "renditions");
    for (int k = 1; k <= 2; k++)
        must(cat_exec(c, "INSERT INTO views(update_id, user_id, first_seen, last_seen, position, completed) "
                         "VALUES (?, ?, ?, ?, 95.5, 1)", "IIII", id, (p + k - 1) % people + 1, at + 600,
                      at + 700) == 1, c, "a view");
    must(cat_exec(c, "INSERT INTO comments(update_id, user_id, body, created_at) "
                     "VALUES (?, ?, 'Nice work!', ?)",
                  "III", id, p % people + 1, at + 900) == 1, c, "a comment");
}

static int seed(int people, int weeks)
{
    struct catalog *c = open_catalog(1);
    int n = 0;

    must(db_begin(c) == DB_OK, c, "begin");
    for (int64_t p = 1; p <= people; p++) {
        char email[64], name[64];
        snprintf(email, sizeof(email), "p%lld@bench.example", (long long)p);
        snprintf(name, sizeof(name), "Person %lld", (long long)p);
        must(cat_insert(c, "INSERT INTO users(email, name, title, team, role, created_at) "
                           "VALUES (?, ?, 'Engineer', ?, ?, ?)", "ssssI", email, name,
                        p % 4 ? "Product" : "Platform", p == 1 ? "admin" : "member",
                        (int64_t)T0 - 86400) > 0, c, "a person");
    }
    for (int w = 0; w < weeks; w++)
        for (int64_t p = 1; p <= people; p++)
            if ((p + w) % 4) {
                seed_update(c, p, people, w);
                n++;
            }
    must(db_commit(c) == DB_OK, c, "commit");
    printf("seeded people %d weeks %d updates %d\n", people, weeks, n);
    catalog_close(c);
    return 0;
}

struct claimer {
    pthread_t th;
    struct catalog *c;
    char id[32];
    int claimed, busy, failed;
};

static void *claimer_run(void *arg)
{
    static const struct db_rendition rungs[2] = {
        { "360p", 640, 360, 900000, 800000, "avc1.64001e,mp4a.40.2" },
        { "720p", 1280, 720, 3000000, 2500000, "avc1.64001f,mp4a.40.2" } };
    struct claimer *w = arg;
    struct db_ready r = { 95.5, 1280, 720, rungs, 2, 0 };
    struct db_job job;

    for (;;) {
        int64_t now = (int64_t)hc_now();
        int rc = db_job_claim(w->c, w->id, now, 300, 3, "used up", &job);
        if (rc == DB_NOTFOUND)
            break;
        if (rc == DB_BUSY) {
            w->busy++;
            continue;
        }
        if (rc != DB_OK) {
            w->failed++;
            break;
        }
        r.now = now;
        while ((rc = db_job_finish(w->c, job.id, w->id, &r, NULL, NULL)) == DB_BUSY)
            w->busy++;
        if (rc != DB_OK) {
            w->failed++;
            break;
        }
        w->claimed++;
    }
    return NULL;
}

static int claims(int jobs, int nclaimers)
{
    struct claimer w[MAX_CLAIMERS];
    struct catalog *c = open_catalog(1);
    int64_t people = 0;
    int total = 0, busy = 0, failed = 0;
    double t0, secs;

    must(cat_get_int(c, &people, "SELECT COUNT(*) FROM users", "") == DB_OK && people > 0, c, "people");
    must(db_begin(c) == DB_OK, c, "begin");
    for (int i = 0; i < jobs; i++) {
        struct db_update_new in = { i % people + 1, "weekly", "2026-W30", "Queued", "", "/data/uploads/q.part",
                                    0, (int64_t)hc_now(), NULL, 0, 0, NULL };
        int64_t id;
        must(db_update_insert_queued(c, &in, &id) == DB_OK, c, "a queued update");
    }
    must(db_commit(c) == DB_OK, c, "commit");
    catalog_close(c);

    memset(w, 0, sizeof(w));
    for (int k = 0; k < nclaimers; k++) {
        w[k].c = open_catalog(0);
        snprintf(w[k].id, sizeof(w[k].id), "bench-%d", k);
    }
    t0 = hc_monotonic();
    for (int k = 0; k < nclaimers; k++)
        pthread_create(&w[k].th, NULL, claimer_run, &w[k]);
    for (int k = 0; k < nclaimers; k++) {
        pthread_join(w[k].th, NULL);
        total += w[k].claimed;
        busy += w[k].busy;
        failed += w[k].failed;
    }
    secs = hc_monotonic() - t0;
    for (int k = 0; k < nclaimers; k++)
        catalog_close(w[k].c);
    printf("claimers %d jobs %d seconds %.3f claims_per_s %.1f busy %d\n", nclaimers, total, secs,
           secs > 0 ? total / secs : 0.0, busy);
    if (failed || total != jobs) {
        fprintf(stderr, "catalog-claims: %d of %d jobs claimed, %d claimers failed\n", total, jobs, failed);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long a = 0, b = 0;

    if (argc != 5 || hc_parse_long(argv[3], 1, 1000000, &a) < 0 || hc_parse_long(argv[4], 1, 1000, &b) < 0 ||
        (strcmp(argv[1], "seed") && strcmp(argv[1], "claims"))) {
        fprintf(stderr, "usage: catalog-claims seed DB PEOPLE WEEKS\n"
                        "       catalog-claims claims DB JOBS CLAIMERS\n");
        return 2;
    }
    db_url = argv[2];
    if (!strcmp(argv[1], "seed"))
        return seed((int)a, (int)b);
    if (b > MAX_CLAIMERS) {
        fprintf(stderr, "catalog-claims: at most %d claimers\n", MAX_CLAIMERS);
        return 2;
    }
    return claims((int)a, (int)b);
}
