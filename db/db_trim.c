/*
 * db_trim.c - every SQL statement about trims and media versions (see
 * db_trim.h). Each public function that writes is one transaction; on
 * any failure it rolls back, so nothing is half done.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_trim.h"
#include "util.h"

/* The columns of a media state, from column k on: the update's, then
 * its newest ladder job's (NULL when it has none). */
#define MEDIA_COLS "u.media_version, u.trim_start, u.trim_end, u.source_duration, " \
                   "j.media_version, j.state, j.progress, j.error FROM updates u " \
                   "LEFT JOIN jobs j ON j.id = (SELECT id FROM jobs WHERE update_id = u.id AND kind = 'ladder' " \
                   "  ORDER BY media_version DESC, id DESC LIMIT 1) "

static void read_media(struct cat_stmt *st, int k, struct db_media *out)
{
    memset(out, 0, sizeof(*out));
    out->version = (int)cat_col_int(st, k);
    out->trimmed = !cat_col_null(st, k + 1);
    out->trim_start = cat_col_double(st, k + 1);
    out->trim_end = cat_col_double(st, k + 2);
    out->source_duration = cat_col_double(st, k + 3);
    out->latest = cat_col_null(st, k + 4) ? out->version : (int)cat_col_int(st, k + 4);
    if (out->latest < out->version)
        out->latest = out->version;
    out->making = !strcmp(cat_col_text(st, k + 5), "queued") || !strcmp(cat_col_text(st, k + 5), "running");
    out->progress = cat_col_double(st, k + 6);
    if (!strcmp(cat_col_text(st, k + 5), "failed"))
        cat_col_copy(st, k + 7, out->error, sizeof(out->error));
}

int db_update_media_state(struct catalog *c, int64_t id, struct db_media *out)
{
    struct cat_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    st = cat_query(c, "SELECT " MEDIA_COLS "WHERE u.id = ?", "I", id);
    if (!st)
        return cat_rc(c);
    rc = cat_step(c, st);
    if (rc != 1)
        return rc == 0 ? DB_NOTFOUND : rc;
    read_media(st, 0, out);
    cat_end(st);
    return DB_OK;
}

int db_update_media_states(struct catalog *c, const int64_t *ids, size_t n, struct db_media *out, int *found)
{
    static const char *const sql[2] = {
        "SELECT l.i, " MEDIA_COLS "JOIN " CAT_LIST_IDS_SQLITE("?") " l ON l.v = u.id",
        "SELECT l.i, " MEDIA_COLS "JOIN " CAT_LIST_IDS_PG("?") " l ON l.v = u.id",
    };
    struct cat_stmt *st;
    int rc;

    memset(out, 0, n * sizeof(*out));
    memset(found, 0, n * sizeof(*found));
    if (!n)
        return DB_OK;
    st = cat_query_ids(c, sql, ids, n, "");
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        int64_t i = cat_col_int(st, 0);
        if (i >= 0 && (size_t)i < n) {
            read_media(st, 1, &out[i]);
            found[i] = 1;
        }
    }
    if (rc < 0)
        memset(found, 0, n * sizeof(*found));
    return rc < 0 ? rc : DB_OK;
}

/* The update's newest job: 1 with its id, state and version, 0 if none,
 * or a negative db_rc. */
static int newest_job(struct catalog *c, int64_t update_id, int64_t *job, char state[16], int *version)
{
    struct cat_stmt *st = cat_query(c, "SELECT id, state, media_version FROM jobs WHERE update_id = ? AND kind = 'ladder' "
                                       "ORDER BY media_version DESC, id DESC LIMIT 1", "I", update_id);
    int rc;

    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc;
    *job = cat_col_int(st, 0);
    cat_col_copy(st, 1, state, 16);
    *version = (int)cat_col_int(st, 2);
    cat_end(st);
    return 1;
}

int db_update_trim(struct catalog *c, int64_t id, int clear, double start, double end,
                   int64_t now, int *version)
{
    double s = clear ? -1.0 : start, e = clear ? -1.0 : end;
    char state[16];
    int64_t job = 0;
    int rc;

    if ((rc = db_begin_update(c, "UPDATE updates SET trim_start = NULLIF(?, -1.0), trim_end = NULLIF(?, -1.0), "
                                 "updated_at = ? WHERE id = ?", "ddII", s, e, now, id)) != DB_OK)
        return rc;
    if ((rc = newest_job(c, id, &job, state, version)) <= 0) {
        if (rc < 0)
            return db_fail(c);
        cat_rollback(c);
        return DB_INVALID;
    }
    if (!strcmp(state, "queued")) {
        /* Not started yet: it takes the span, no new version. */
        if (cat_exec(c, "UPDATE jobs SET trim_start = NULLIF(?, -1.0), trim_end = NULLIF(?, -1.0), "
                        "updated_at = ? WHERE id = ?", "ddII", s, e, now, job) != 1)
            return db_fail(c);
        return db_commit(c);
    }
    (*version)++;
    if (cat_insert(c, "INSERT INTO jobs(update_id, input_path, priority, media_version, trim_start, "
                      "trim_end, created_at, updated_at) SELECT update_id, input_path, priority, ?, "
                      "NULLIF(?, -1.0), NULLIF(?, -1.0), ?, ? FROM jobs WHERE id = ?",
                   "iddIII", *version, s, e, now, now, job) < 0)
        return db_fail(c);
    return db_commit(c);
}

int db_job_media(struct catalog *c, int64_t job_id, struct db_job_media *out)
{
    struct cat_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    st = cat_query(c, "SELECT media_version, trim_start, trim_end FROM jobs WHERE id = ?", "I", job_id);
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc == 0 ? DB_NOTFOUND : rc;
    out->version = (int)cat_col_int(st, 0);
    out->trimmed = !cat_col_null(st, 1);
    out->trim_start = cat_col_double(st, 1);
    out->trim_end = cat_col_double(st, 2);
    cat_end(st);
    return DB_OK;
}

int db_job_finish_media(struct catalog *c, int64_t job_id, const char *worker_id,
                        const struct db_ready *r, int version, double source_duration,
                        int (*on_ready)(struct catalog *c, int64_t update_id, void *arg), void *arg,
                        int *previous)
{
    int64_t update_id = 0, ours = 0, newer = 0, was_ready = 0, prev = 0;
    int rc, n;

    *previous = 0;
    if ((rc = db_begin(c)) < 0)
        return rc;
    if ((rc = cat_get_int(c, &ours, "SELECT COUNT(*) FROM jobs WHERE id = ? AND worker = ? "
                                    "AND state = 'running'", "Is", job_id, worker_id)) < 0)
        return db_fail(c);
    if (!ours) {
        cat_rollback(c);
        return DB_INVALID;
    }
    rc = cat_get_int(c, &update_id, "SELECT update_id FROM jobs WHERE id = ?", "I", job_id);
    if (rc < 0)
        return db_fail(c);
    if (rc == DB_NOTFOUND)      /* its update was deleted */
        return db_job_drop_commit(c, job_id, r->now);
    if (cat_get_int(c, &newer, "SELECT COUNT(*) FROM jobs WHERE update_id = ? AND media_version > ?",
                    "Ii", update_id, version) < 0 ||
        cat_get_int(c, &was_ready, "SELECT status = 'ready' FROM updates WHERE id = ?", "I", update_id) < 0 ||
        cat_get_int(c, &prev, "SELECT media_version FROM updates WHERE id = ?", "I", update_id) < 0)
        return db_fail(c);
    if (newer)                  /* trimmed again meanwhile */
        return db_job_drop_commit(c, job_id, r->now);
    if (db_job_put_renditions(c, update_id, r) < 0)
        return db_fail(c);
    n = cat_exec(c, "UPDATE updates SET status = 'ready', error = '', duration = ?, width = ?, height = ?, "
                    "ready_at = CASE WHEN status = 'ready' THEN ready_at ELSE ? END, updated_at = ?, "
                    "media_version = ?, source_duration = COALESCE(NULLIF(?, 0.0), source_duration) "
                    "WHERE id = ? AND status IN ('processing', 'ready')",
                 "diiIIidI", r->duration, r->width, r->height, r->now, r->now, version, source_duration,
                 update_id);
    if (n < 0)
        return db_fail(c);
    if (n == 0) {
        cat_rollback(c);
        return DB_INVALID;
    }
    if (cat_exec(c, "UPDATE jobs SET state = 'done', progress = 100, eta = 0, updated_at = ? WHERE id = ?",
                 "II", r->now, job_id) != 1)
        return db_fail(c);
    if (!was_ready && on_ready && on_ready(c, update_id, arg) < 0)
        return db_fail(c);
    if ((rc = db_commit(c)) < 0)
        return rc;
    *previous = (int)prev;
    return DB_OK;
}
