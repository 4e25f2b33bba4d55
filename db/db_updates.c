/*
 * db_updates.c - every SQL statement about updates, renditions and
 * transcode jobs: the visibility rule, reads for the API, edits, deletion
 * and the lifecycle transitions documented in db_updates.h. Each public
 * function that writes is one transaction (BEGIN IMMEDIATE ... COMMIT);
 * on any failure it rolls back, so nothing is half done.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_updates.h"
#include "db_visible.h"
#include "util.h"

/* The visibility rule, once (db_visible.h): :viewer the viewer's id,
 * :admin 1 for an admin. */
#define VISIBLE DB_VISIBLE

/* The columns of struct db_update, in read_update's order. */
#define UPDATE_COLUMNS \
    "u.id, u.author_id, a.name, a.email, a.title, a.team, u.kind, u.iso_week, u.title, " \
    "u.description, u.status, u.error, u.duration, u.width, u.height, u.created_at, " \
    "u.updated_at, u.ready_at, u.nonce, j.progress, j.eta, " \
    "(SELECT COUNT(*) FROM views v WHERE v.update_id = u.id AND v.user_id <> u.author_id), " \
    "(SELECT COUNT(*) FROM comments m WHERE m.update_id = u.id), " \
    "(u.status = 'ready' OR (u.status <> 'failed' AND u.first_ready_at IS NOT NULL)), " \
    "(u.published_at IS NOT NULL OR u.status = 'ready'), COALESCE(a.avatar, ''), " \
    "CASE WHEN f.state = 'running' AND f.slow <> 0 THEN 1 ELSE 0 END, f.eta "
#define UPDATE_FROM \
    "FROM updates u JOIN users a ON a.id = u.author_id " \
    "LEFT JOIN jobs j ON j.id = (SELECT MAX(id) FROM jobs WHERE update_id = u.id AND kind = 'ladder') " \
    "LEFT JOIN jobs f ON f.id = (SELECT MAX(id) FROM jobs WHERE update_id = u.id AND kind = 'first') "

static void read_update(struct cat_stmt *st, struct db_update *u)
{
    memset(u, 0, sizeof(*u));
    u->id = cat_col_int(st, 0);
    u->author_id = cat_col_int(st, 1);
    cat_col_copy(st, 2, u->author_name, sizeof(u->author_name));
    cat_col_copy(st, 3, u->author_email, sizeof(u->author_email));
    cat_col_copy(st, 4, u->author_title, sizeof(u->author_title));
    cat_col_copy(st, 5, u->author_team, sizeof(u->author_team));
    cat_col_copy(st, 6, u->kind, sizeof(u->kind));
    cat_col_copy(st, 7, u->iso_week, sizeof(u->iso_week));
    cat_col_copy(st, 8, u->title, sizeof(u->title));
    u->description = hc_strdup(cat_col_text(st, 9));
    cat_col_copy(st, 10, u->status, sizeof(u->status));
    cat_col_copy(st, 11, u->error, sizeof(u->error));
    u->has_duration = !cat_col_null(st, 12);
    u->duration = cat_col_double(st, 12);
    u->width = (int)cat_col_int(st, 13);
    u->height = (int)cat_col_int(st, 14);
    u->created_at = cat_col_int(st, 15);
    u->updated_at = cat_col_int(st, 16);
    u->ready_at = cat_col_int(st, 17);
    cat_col_copy(st, 18, u->nonce, sizeof(u->nonce));
    u->progress = cat_col_double(st, 19);
    u->eta = cat_col_null(st, 20) ? -1 : cat_col_double(st, 20);
    u->views_count = cat_col_int(st, 21);
    u->comments_count = cat_col_int(st, 22);
    u->playable = (int)cat_col_int(st, 23);
    u->published = (int)cat_col_int(st, 24);
    cat_col_copy(st, 25, u->author_avatar, sizeof(u->author_avatar));
    u->first_slow = (int)cat_col_int(st, 26);
    u->first_eta = cat_col_null(st, 27) ? -1 : cat_col_double(st, 27);
}

void db_update_free(struct db_update *u)
{
    if (!u)
        return;
    free(u->description);
    u->description = NULL;
}

void db_update_list_free(struct db_update **list, size_t n)
{
    if (!*list)
        return;
    for (size_t i = 0; i < n; i++)
        db_update_free(&(*list)[i]);
    free(*list);
    *list = NULL;
}

void db_strings_free(char ***list, size_t n)
{
    if (!*list)
        return;
    for (size_t i = 0; i < n; i++)
        free((*list)[i]);
    free(*list);
    *list = NULL;
}

int db_update_get(struct catalog *c, const struct db_viewer *v, int64_t id, struct db_update *out)
{
    struct cat_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    st = cat_query(c, "SELECT " UPDATE_COLUMNS UPDATE_FROM
                      "WHERE u.id = :id AND " VISIBLE, "IIi", id, v->user_id, v->admin ? 1 : 0);
    if (!st)
        return cat_rc(c);
    rc = cat_step(c, st);
    if (rc == 1) {
        read_update(st, out);
        cat_end(st);
        return DB_OK;
    }
    return rc == 0 ? DB_NOTFOUND : rc;
}

int db_update_gets(struct catalog *c, const struct db_viewer *v, const int64_t *ids, size_t n,
                   struct db_update *out, int *found)
{
    /* Rows are matched to ids by their id, not by a column of the list:
     * UPDATE_COLUMNS may grow. */
    static const char *const sql[2] = {
        "SELECT " UPDATE_COLUMNS UPDATE_FROM "WHERE u.id IN (SELECT l.v FROM " CAT_LIST_IDS_SQLITE(":ids") " l) "
        "AND " VISIBLE,
        "SELECT " UPDATE_COLUMNS UPDATE_FROM "WHERE u.id IN (SELECT l.v FROM " CAT_LIST_IDS_PG(":ids") " l) "
        "AND " VISIBLE,
    };
    struct cat_stmt *st;
    struct db_update u;
    int rc;

    memset(out, 0, n * sizeof(*out));
    memset(found, 0, n * sizeof(*found));
    if (!n)
        return DB_OK;
    st = cat_query_ids(c, sql, ids, n, "Ii", v->user_id, v->admin ? 1 : 0);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        read_update(st, &u);
        for (size_t i = 0; i < n; i++) {
            if (ids[i] != u.id || found[i])
                continue;
            out[i] = u;
            out[i].description = hc_strdup(u.description ? u.description : "");
            found[i] = 1;
        }
        db_update_free(&u);
    }
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            db_update_free(&out[i]);
        memset(found, 0, n * sizeof(*found));
    }
    return rc < 0 ? rc : DB_OK;
}

/* Filters bound as NULL when absent ("?x IS NULL OR col = ?x"), never
 * spliced into the text. */
#define LIST_WHERE \
    "WHERE (:week IS NULL OR u.iso_week = :week) AND (:author IS NULL OR u.author_id = CAST(:author AS BIGINT)) " \
    "AND (:kind IS NULL OR u.kind = :kind) AND (:status IS NULL OR u.status = :status) AND " VISIBLE

int db_update_list(struct catalog *c, const struct db_viewer *v, const struct db_update_filter *f,
                   struct db_update **out, size_t *n, int64_t *total)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;
    const char *author = NULL;
    char abuf[24];

    *out = NULL;
    *n = 0;
    if (f->author_id > 0) {
        snprintf(abuf, sizeof(abuf), "%lld", (long long)f->author_id);
        author = abuf;
    }
    if (total) {
        rc = cat_get_int(c, total, "SELECT COUNT(*) FROM updates u " LIST_WHERE,
                         "ssssIi", f->week, author, f->kind, f->status, v->user_id, v->admin ? 1 : 0);
        if (rc != DB_OK)
            return rc < 0 ? rc : DB_ERROR;
    }
    st = cat_query(c, "SELECT " UPDATE_COLUMNS UPDATE_FROM LIST_WHERE
                      "ORDER BY u.kind = 'allhands' DESC, u.created_at DESC, u.id DESC "
                      "LIMIT :limit OFFSET :offset",
                   "ssssIiII", f->week, author, f->kind, f->status, v->user_id, v->admin ? 1 : 0,
                   (int64_t)(f->limit < 0 ? -1 : f->limit), (int64_t)f->offset);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *out = hc_realloc(*out, cap * sizeof(**out));
        }
        read_update(st, &(*out)[(*n)++]);
    }
    if (rc < 0) {
        db_update_list_free(out, *n);
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_update_week_people(struct catalog *c, const char *week, int posted,
                          struct db_week_person **out, size_t *n)
{
    return db_habit_week_people(c, week, INT64_MAX, posted, out, n);
}

static int get_nonce(struct catalog *c, const char *sql, int64_t id, char nonce[DB_NONCE_SIZE])
{
    char *s = NULL;
    int rc = cat_get_text(c, &s, sql, "I", id);

    nonce[0] = '\0';
    if (rc == DB_OK)
        hc_strlcpy(nonce, s, DB_NONCE_SIZE);
    free(s);
    return rc;
}

int db_update_media(struct catalog *c, int64_t id, char nonce[DB_NONCE_SIZE])
{
    return get_nonce(c, "SELECT nonce FROM updates WHERE id = ? AND status = 'ready'", id, nonce);
}

int db_update_media_first(struct catalog *c, const struct db_viewer *v, int64_t id,
                          char nonce[DB_NONCE_SIZE])
{
    char *s = NULL;
    int rc = cat_get_text(c, &s, "SELECT u.nonce FROM updates u WHERE u.id = :id AND (u.status = 'ready' "
                                 "OR (u.status <> 'failed' AND u.first_ready_at IS NOT NULL)) "
                                 "AND (:anyone = 1 OR " VISIBLE ") "
                                 /* A trim hides what it cut: the untrimmed first
                                  * rendition is its author's alone. */
                                 "AND (u.trim_start IS NULL OR (:anyone = 0 AND u.author_id = :viewer))",
                          "IiIi", id, v ? 0 : 1, v ? v->user_id : (int64_t)0, v && v->admin ? 1 : 0);

    nonce[0] = '\0';
    if (rc == DB_OK)
        hc_strlcpy(nonce, s, DB_NONCE_SIZE);
    free(s);
    return rc;
}

int db_update_nonce(struct catalog *c, int64_t id, char nonce[DB_NONCE_SIZE])
{
    return get_nonce(c, "SELECT nonce FROM updates WHERE id = ?", id, nonce);
}

int db_update_edit(struct catalog *c, int64_t id, const char *title, const char *description, int64_t now)
{
    int rc;

    if ((rc = db_begin_update(c, "UPDATE updates SET title = COALESCE(?, title), "
                                 "description = COALESCE(?, description), updated_at = ? WHERE id = ?",
                              "ssII", title, description, now, id)) != DB_OK)
        return rc;
    return db_commit(c);
}

int db_update_change(struct catalog *c, int64_t id, const struct db_update_change *ch,
                     int (*after)(struct catalog *c, int64_t id, void *arg), void *arg)
{
    int rc;

    if ((rc = db_begin_update(c, "UPDATE updates SET title = COALESCE(?, title), "
                                 "description = COALESCE(?, description), kind = COALESCE(?, kind), "
                                 "updated_at = ? WHERE id = ?",
                              "sssII", ch->title, ch->description, ch->kind, ch->now, id)) != DB_OK)
        return rc;
    if (ch->kind && cat_exec(c, "UPDATE jobs SET priority = ?, updated_at = ? WHERE update_id = ? "
                                "AND state IN ('queued', 'running')", "iII", ch->priority, ch->now, id) < 0)
        return db_fail(c);
    if (ch->set_answers) {
        if (cat_exec(c, "DELETE FROM update_answers WHERE update_id = ?", "I", id) < 0)
            return db_fail(c);
        if (db_update_answers_add(c, id, ch->answers, ch->nanswers) < 0)
            return db_fail(c);
    }
    if (after && (rc = after(c, id, arg)) < 0) {
        cat_rollback(c);
        return rc;
    }
    return db_commit(c);
}

static void fill_answer_of(struct cat_stmt *st, void *p)
{
    struct db_answer_of *x = p;

    x->i = (size_t)cat_col_int(st, 0);
    cat_col_copy(st, 1, x->a.prompt, sizeof(x->a.prompt));
    cat_col_copy(st, 2, x->a.text, sizeof(x->a.text));
}

int db_update_answers_of(struct catalog *c, const int64_t *ids, size_t n, struct db_answer_of **out,
                         size_t *nout)
{
    static const char *const sql[2] = {
        "SELECT l.i, a.prompt, a.body FROM update_answers a JOIN " CAT_LIST_IDS_SQLITE("?") " l "
        "ON l.v = a.update_id ORDER BY l.i, a.position",
        "SELECT l.i, a.prompt, a.body FROM update_answers a JOIN " CAT_LIST_IDS_PG("?") " l "
        "ON l.v = a.update_id ORDER BY l.i, a.position",
    };

    *out = NULL;
    *nout = 0;
    if (!n)
        return DB_OK;
    return cat_read_list(c, cat_query_ids(c, sql, ids, n, ""), sizeof(**out), fill_answer_of,
                         (void **)out, nout);
}

int db_update_answers(struct catalog *c, int64_t update_id, struct db_answer **out, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    st = cat_query(c, "SELECT prompt, body FROM update_answers WHERE update_id = ? ORDER BY position",
                   "I", update_id);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        struct db_answer *a;
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *out = hc_realloc(*out, cap * sizeof(**out));
        }
        a = &(*out)[(*n)++];
        cat_col_copy(st, 0, a->prompt, sizeof(a->prompt));
        cat_col_copy(st, 1, a->text, sizeof(a->text));
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_update_kudos(struct catalog *c, const struct db_viewer *v, int64_t user_id,
                    struct db_kudos **out, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    st = cat_query(c, "SELECT u.id, u.title, u.kind, COALESCE(k.comment_id, 0), k.by_user, b.name, k.excerpt, "
                      "k.created_at FROM mentions k JOIN updates u ON u.id = k.update_id "
                      "JOIN users b ON b.id = k.by_user WHERE k.user_id = :user AND " VISIBLE " "
                      "ORDER BY k.created_at DESC, k.id DESC LIMIT 200",
                   "IIi", user_id, v->user_id, v->admin ? 1 : 0);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        struct db_kudos *k;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = hc_realloc(*out, cap * sizeof(**out));
        }
        k = &(*out)[(*n)++];
        k->update_id = cat_col_int(st, 0);
        cat_col_copy(st, 1, k->title, sizeof(k->title));
        cat_col_copy(st, 2, k->kind, sizeof(k->kind));
        k->comment_id = cat_col_int(st, 3);
        k->by_id = cat_col_int(st, 4);
        cat_col_copy(st, 5, k->by_name, sizeof(k->by_name));
        cat_col_copy(st, 6, k->excerpt, sizeof(k->excerpt));
        k->created_at = cat_col_int(st, 7);
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_update_delete(struct catalog *c, int64_t id, char ***inputs, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc, changed;

    *inputs = NULL;
    *n = 0;
    if ((rc = db_begin(c)) < 0)
        return rc;
    st = cat_query(c, "SELECT input_path FROM jobs WHERE update_id = ?", "I", id);
    if (!st)
        return db_fail(c);
    while ((rc = cat_step(c, st)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *inputs = hc_realloc(*inputs, cap * sizeof(**inputs));
        }
        (*inputs)[(*n)++] = hc_strdup(cat_col_text(st, 0));
    }
    if (rc < 0 ||
        cat_exec(c, "DELETE FROM uploads WHERE update_id = ?", "I", id) < 0 ||
        /* a live upload feeding it ends with it */
        cat_exec(c, "DELETE FROM uploads WHERE id = (SELECT upload_id FROM updates WHERE id = ?) "
                    "AND update_id IS NULL", "I", id) < 0 ||
        (changed = cat_exec(c, "DELETE FROM updates WHERE id = ?", "I", id)) < 0) {
        db_strings_free(inputs, *n);
        *n = 0;
        return db_fail(c);
    }
    if (changed == 0) {
        cat_rollback(c);
        db_strings_free(inputs, *n);
        *n = 0;
        return DB_NOTFOUND;
    }
    if ((rc = db_commit(c)) < 0) {
        db_strings_free(inputs, *n);
        *n = 0;
    }
    return rc;
}

int db_update_answers_add(struct catalog *c, int64_t id, const struct db_answer *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cat_insert(c, "INSERT INTO update_answers(update_id, position, prompt, body) VALUES (?, ?, ?, ?)",
                       "IIss", id, (int64_t)i, a[i].prompt, a[i].text) < 0)
            return cat_rc(c);
    return DB_OK;
}

/* Queue a job of kind ("first" or "ladder") for update uid. DB_OK or a
 * negative db_rc. */
static int insert_job(struct catalog *c, int64_t uid, const char *kind, const struct db_update_new *in)
{
    if (cat_insert(c, "INSERT INTO jobs(update_id, kind, input_path, priority, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?)", "IssiII", uid, kind, in->input_path, in->priority,
                   in->now, in->now) < 0)
        return cat_rc(c);
    return DB_OK;
}

int db_update_insert_queued(struct catalog *c, const struct db_update_new *in, int64_t *id)
{
    int64_t uid;
    int rc;

    uid = cat_insert(c, "INSERT INTO updates(author_id, kind, iso_week, title, description, status, "
                        "created_at, updated_at, published_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
                     "IssssIII", in->author_id, in->kind, in->iso_week, in->title,
                     in->description ? in->description : "", in->now, in->now, in->now);
    if (uid < 0)
        return cat_rc(c);
    if ((rc = db_update_answers_add(c, uid, in->answers, in->nanswers)) < 0)
        return rc;
    if ((in->first && (rc = insert_job(c, uid, "first", in)) < 0) ||
        (rc = insert_job(c, uid, "ladder", in)) < 0)
        return rc;
    *id = uid;
    return DB_OK;
}

int db_update_insert_live(struct catalog *c, const struct db_update_new *in, int64_t *id)
{
    int64_t uid;
    int rc;

    uid = cat_insert(c, "INSERT INTO updates(author_id, kind, iso_week, title, description, status, "
                        "created_at, updated_at, upload_id) VALUES (?, ?, ?, ?, ?, 'uploading', ?, ?, ?)",
                     "IssssIIs", in->author_id, in->kind, in->iso_week, in->title,
                     in->description ? in->description : "", in->now, in->now, in->upload_id);
    if (uid < 0)
        return cat_rc(c);
    if ((rc = insert_job(c, uid, "first", in)) < 0)
        return rc;
    *id = uid;
    return DB_OK;
}

/* ---- renditions ---- */

int db_rendition_list(struct catalog *c, int64_t update_id, struct db_rendition **out, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    st = cat_query(c, "SELECT name, width, height, bandwidth, avg_bandwidth, codecs FROM renditions "
                      "WHERE update_id = ? ORDER BY height DESC, id", "I", update_id);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        struct db_rendition *x;
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *out = hc_realloc(*out, cap * sizeof(**out));
        }
        x = &(*out)[(*n)++];
        cat_col_copy(st, 0, x->name, sizeof(x->name));
        x->width = (int)cat_col_int(st, 1);
        x->height = (int)cat_col_int(st, 2);
        x->bandwidth = (int)cat_col_int(st, 3);
        x->avg_bandwidth = (int)cat_col_int(st, 4);
        cat_col_copy(st, 5, x->codecs, sizeof(x->codecs));
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

static void fill_rendition_of(struct cat_stmt *st, void *p)
{
    struct db_rendition_of *x = p;

    x->i = (size_t)cat_col_int(st, 0);
    cat_col_copy(st, 1, x->r.name, sizeof(x->r.name));
    x->r.width = (int)cat_col_int(st, 2);
    x->r.height = (int)cat_col_int(st, 3);
    x->r.bandwidth = (int)cat_col_int(st, 4);
    x->r.avg_bandwidth = (int)cat_col_int(st, 5);
    cat_col_copy(st, 6, x->r.codecs, sizeof(x->r.codecs));
}

int db_rendition_lists(struct catalog *c, const int64_t *ids, size_t n, struct db_rendition_of **out,
                       size_t *nout)
{
    static const char *const sql[2] = {
        "SELECT l.i, r.name, r.width, r.height, r.bandwidth, r.avg_bandwidth, r.codecs FROM renditions r "
        "JOIN " CAT_LIST_IDS_SQLITE("?") " l ON l.v = r.update_id ORDER BY l.i, r.height DESC, r.id",
        "SELECT l.i, r.name, r.width, r.height, r.bandwidth, r.avg_bandwidth, r.codecs FROM renditions r "
        "JOIN " CAT_LIST_IDS_PG("?") " l ON l.v = r.update_id ORDER BY l.i, r.height DESC, r.id",
    };

    *out = NULL;
    *nout = 0;
    if (!n)
        return DB_OK;
    return cat_read_list(c, cat_query_ids(c, sql, ids, n, ""), sizeof(**out), fill_rendition_of,
                         (void **)out, nout);
}

/* ---- jobs ---- */

/* The next claimable job, in claim order (db_updates.h): its id, update,
 * input, attempts, whether it is a first job. Parameters: :now, :lane.
 * The two backends differ in their FROM and their end only. */
#define NEXT_JOB_COLUMNS "SELECT j.id, j.update_id, j.input_path, j.attempts, j.kind = 'first' FROM jobs j "
#define NEXT_JOB_WHERE \
    "WHERE (j.state = 'queued' OR (j.state = 'running' AND j.lease_until < :now)) " \
    "AND (:lane = 0 OR (:lane = 1 AND j.kind = 'first') OR (:lane = 2 AND j.kind = 'ladder')) " \
    /* No ladder starts while a first pass still waits for a lane. */ \
    "AND (j.kind = 'first' OR NOT EXISTS (SELECT 1 FROM jobs f JOIN updates fu ON fu.id = f.update_id " \
    "     WHERE f.kind = 'first' AND f.state = 'queued')) " \
    "ORDER BY j.kind = 'first' DESC, j.priority DESC, " \
    /* Fair turns: a job's place is the number of its author's jobs \
     * that were already waiting when it was queued, so a second \
     * person's first upload passes someone's fifth. Counted update by \
     * update of the author (updates_author, then jobs_update), which \
     * both planners keep to: one join let them read every job instead. */ \
    " COALESCE((SELECT SUM((SELECT COUNT(*) FROM jobs j2 " \
    "   WHERE j2.update_id = u2.id AND j2.kind = j.kind AND j2.id < j.id " \
    "   AND (j2.state IN ('queued', 'running') OR j2.updated_at >= j.created_at))) " \
    "  FROM updates u2 WHERE u2.author_id = u.author_id), 0) ASC, " \
    " j.id ASC LIMIT 1"

/* SQLite: the transaction holds the one write lock, so the first row is
 * the claim; a job whose update was deleted (update 0) comes up in its
 * turn and is dropped by the caller. */
static const char next_job_sqlite[] =
    NEXT_JOB_COLUMNS "LEFT JOIN updates u ON u.id = j.update_id " NEXT_JOB_WHERE;

/* PostgreSQL: claimers run side by side (db_begin_rows). Each locks the
 * first job in order that no other transaction holds, with its update,
 * and passes over held ones instead of waiting for them; so a claim
 * never waits for a row another claim or a writer holds. The update is
 * locked FOR NO KEY UPDATE (what the claim's own UPDATE takes), which
 * foreign-key checks of new comments, views and reactions do not
 * conflict with. Jobs of deleted updates are dropped first (drop_orphans_pg):
 * an outer join's missing side cannot be locked. */
static const char next_job_pg[] =
    NEXT_JOB_COLUMNS "JOIN updates u ON u.id = j.update_id " NEXT_JOB_WHERE
    " FOR UPDATE OF j SKIP LOCKED FOR NO KEY UPDATE OF u SKIP LOCKED";

/* PostgreSQL: claimable jobs of the lane whose update was deleted ->
 * dropped, those no other transaction holds, in one statement of its own
 * (as SQLite drops each when its turn comes). Parameters: :now, :lane. */
static const char drop_orphans_pg[] =
    "UPDATE jobs SET state = 'dropped', worker = NULL, updated_at = :now WHERE id IN "
    "(SELECT j.id FROM jobs j WHERE j.update_id IS NULL "
    " AND (j.state = 'queued' OR (j.state = 'running' AND j.lease_until < :now)) "
    " AND (:lane = 0 OR (:lane = 1 AND j.kind = 'first') OR (:lane = 2 AND j.kind = 'ladder')) "
    " FOR UPDATE SKIP LOCKED)";

/* The next claimable job into *out (update_id 0 if its update was
 * deleted). 1 with a row, 0 if none, or a negative db_rc. */
static int next_job(struct catalog *c, enum db_lane lane, int64_t now, struct db_job *out)
{
    struct cat_stmt *st;
    int rc;

    st = cat_query(c, cat_is_pg(c) ? next_job_pg : next_job_sqlite, "Ii", now, (int)lane);
    if (!st)
        return cat_rc(c);
    rc = cat_step(c, st);
    if (rc != 1)
        return rc;
    out->id = cat_col_int(st, 0);
    out->update_id = cat_col_null(st, 1) ? 0 : cat_col_int(st, 1);
    cat_col_copy(st, 2, out->input_path, sizeof(out->input_path));
    out->attempts = (int)cat_col_int(st, 3);
    out->first = (int)cat_col_int(st, 4);
    cat_end(st);
    return 1;
}

int db_job_claim(struct catalog *c, const char *worker_id, int64_t now, int lease, int max_attempts,
                 const char *exhausted, struct db_job *out)
{
    return db_job_claim_lane(c, DB_LANE_ANY, worker_id, now, lease, max_attempts, exhausted, out);
}

int db_job_claim_lane(struct catalog *c, enum db_lane lane, const char *worker_id, int64_t now, int lease,
                      int max_attempts, const char *exhausted, struct db_job *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (cat_is_pg(c) && cat_exec(c, drop_orphans_pg, "Ii", now, (int)lane) < 0)
        return cat_rc(c);
    for (;;) {
        if ((rc = db_begin_rows(c)) < 0)
            return rc;
        rc = next_job(c, lane, now, out);
        if (rc <= 0) {
            cat_rollback(c);
            return rc == 0 ? DB_NOTFOUND : rc;
        }
        if (out->update_id == 0) {
            /* queued | running -> dropped: its update was deleted. */
            if (cat_exec(c, "UPDATE jobs SET state = 'dropped', worker = NULL, updated_at = ? WHERE id = ?",
                         "II", now, out->id) < 0)
                return db_fail(c);
            if ((rc = db_commit(c)) < 0)
                return rc;
            continue;
        }
        if (out->attempts >= max_attempts) {
            /* running (attempts used up) -> failed, with its update. */
            if (cat_exec(c, "UPDATE jobs SET state = 'failed', error = ?, updated_at = ? WHERE id = ?",
                         "sII", exhausted, now, out->id) < 0 ||
                (!out->first &&
                 cat_exec(c, "UPDATE updates SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
                          "sII", exhausted, now, out->update_id) < 0) ||
                (out->first &&
                 cat_exec(c, "UPDATE updates SET first_ready_at = NULL, first_segments = 0, updated_at = ? "
                             "WHERE id = ?", "II", now, out->update_id) < 0))
                return db_fail(c);
            if ((rc = db_commit(c)) < 0)
                return rc;
            continue;
        }
        if (cat_exec(c, "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?, "
                        "lease_until = ?, heartbeat_at = ?, progress = 0, eta = NULL, slow = 0, "
                        "updated_at = ? WHERE id = ?", "sIIII", worker_id, now + lease, now, now, out->id) != 1)
            return db_fail(c);
        if (out->first) {
            /* Its rendition starts over; the status is the ladder's. */
            if (cat_exec(c, "UPDATE updates SET first_ready_at = NULL, first_segments = 0, "
                            "updated_at = ? WHERE id = ?", "II", now, out->update_id) != 1)
                return db_fail(c);
        /* A ready update being trimmed again stays ready (db_trim.h). */
        } else if (cat_exec(c, "UPDATE updates SET status = CASE status WHEN 'ready' THEN 'ready' "
                               "ELSE 'processing' END, updated_at = ? WHERE id = ?",
                            "II", now, out->update_id) != 1) {
            return db_fail(c);
        }
        if ((rc = db_commit(c)) < 0)
            return rc;
        out->attempts++;
        return DB_OK;
    }
}

int db_job_heartbeat(struct catalog *c, int64_t job_id, const char *worker_id, double progress,
                     double eta, int64_t now, int lease)
{
    int n = cat_exec(c, "UPDATE jobs SET progress = ?, eta = NULLIF(?, -1.0), heartbeat_at = ?, "
                        "lease_until = ?, updated_at = ? WHERE id = ? AND worker = ? AND state = 'running' "
                        "AND update_id IS NOT NULL",
                     "ddIIIIs", progress, eta >= 0 ? eta : -1.0, now, now + lease, now, job_id, worker_id);
    if (n < 0)
        return cat_rc(c);
    return n == 1 ? DB_OK : DB_INVALID;
}

int db_job_release(struct catalog *c, int64_t job_id, const char *worker_id, int64_t now)
{
    int n = cat_exec(c, "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), worker = NULL, "
                        "lease_until = NULL, updated_at = ? WHERE id = ? AND worker = ? AND state = 'running'",
                     "IIs", now, job_id, worker_id);
    if (n < 0)
        return cat_rc(c);
    return n == 1 ? DB_OK : DB_INVALID;
}

int db_job_requeue(struct catalog *c, int64_t job_id, const char *worker_id, int64_t now)
{
    int n = cat_exec(c, "UPDATE jobs SET state = 'queued', worker = NULL, lease_until = NULL, updated_at = ? "
                        "WHERE id = ? AND worker = ? AND state = 'running'", "IIs", now, job_id, worker_id);
    if (n < 0)
        return cat_rc(c);
    return n == 1 ? DB_OK : DB_INVALID;
}

int db_job_fail(struct catalog *c, int64_t job_id, const char *worker_id, const char *reason, int64_t now)
{
    int rc;

    rc = db_begin_update(c, "UPDATE jobs SET state = 'failed', error = ?, updated_at = ? "
                            "WHERE id = ? AND worker = ? AND state = 'running'", "sIIs", reason, now, job_id, worker_id);
    if (rc != DB_OK)            /* not this worker's running job: DB_INVALID */
        return rc == DB_NOTFOUND ? DB_INVALID : rc;
    if (cat_exec(c, "UPDATE updates SET status = 'failed', error = ?, updated_at = ? WHERE id = "
                    "(SELECT update_id FROM jobs WHERE id = ? AND kind = 'ladder') AND status = 'processing'",
                 "sII", reason, now, job_id) < 0 ||
        cat_exec(c, "UPDATE updates SET first_ready_at = NULL, first_segments = 0, updated_at = ? WHERE id = "
                    "(SELECT update_id FROM jobs WHERE id = ? AND kind = 'first')", "II", now, job_id) < 0)
        return db_fail(c);
    return db_commit(c);
}

int db_job_first_input(struct catalog *c, int64_t job_id, int64_t *offset, enum db_input_state *state)
{
    struct cat_stmt *st;
    int rc;

    *offset = -1;
    *state = DB_INPUT_GONE;
    st = cat_query(c, "SELECT u.status, u.upload_id IS NOT NULL, p.id IS NOT NULL, p.\"offset\", "
                      "p.update_id IS NOT NULL FROM jobs j JOIN updates u ON u.id = j.update_id "
                      "LEFT JOIN uploads p ON p.id = u.upload_id WHERE j.id = ?", "I", job_id);
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) < 0)
        return rc;
    if (rc == 0)
        return DB_OK;           /* the update was deleted */
    if (!strcmp(cat_col_text(st, 0), "failed")) {
        *state = DB_INPUT_GONE;
    } else if (!cat_col_int(st, 1)) {
        *state = DB_INPUT_FINISHED;     /* uploaded in one go: the whole file */
    } else if (!cat_col_int(st, 2)) {
        /* the live upload's record is gone: finished ones keep theirs */
        *state = !strcmp(cat_col_text(st, 0), "uploading") ? DB_INPUT_GONE : DB_INPUT_FINISHED;
    } else {
        *offset = cat_col_int(st, 3);
        *state = cat_col_int(st, 4) ? DB_INPUT_FINISHED : DB_INPUT_GROWING;
    }
    cat_end(st);
    return DB_OK;
}

int db_update_first_busy(struct catalog *c, int64_t id, int *busy)
{
    struct cat_stmt *st;
    int rc;

    *busy = 0;
    st = cat_query(c, "SELECT COUNT(*) FROM jobs WHERE update_id = ? AND kind = 'first' "
                      "AND state IN ('queued', 'running')", "I", id);
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) < 0)
        return rc;
    if (rc > 0) {
        *busy = cat_col_int(st, 0) > 0;
        cat_end(st);
    }
    return DB_OK;
}

int db_job_first_progress(struct catalog *c, int64_t job_id, const char *worker_id, int segments, int64_t now)
{
    int n = cat_exec(c, "UPDATE updates SET first_segments = ?, "
                        "first_ready_at = CASE WHEN ? > 0 THEN COALESCE(first_ready_at, ?) END, updated_at = ? "
                        "WHERE id = (SELECT update_id FROM jobs WHERE id = ? AND worker = ? "
                        "AND state = 'running' AND kind = 'first')",
                     "iiIIIs", segments, segments, now, now, job_id, worker_id);
    if (n < 0)
        return cat_rc(c);
    return n == 1 ? DB_OK : DB_INVALID;
}

int db_job_first_slow(struct catalog *c, int64_t job_id, const char *worker_id, int slow, int64_t now)
{
    int n = cat_exec(c, "UPDATE jobs SET slow = ?, updated_at = ? WHERE id = ? AND worker = ? "
                        "AND state = 'running' AND kind = 'first'",
                     "iIIs", slow ? 1 : 0, now, job_id, worker_id);
    if (n < 0)
        return cat_rc(c);
    return n == 1 ? DB_OK : DB_INVALID;
}

int db_job_drop(struct catalog *c, int64_t job_id, const char *worker_id, int64_t now)
{
    int n = cat_exec(c, "UPDATE jobs SET state = 'dropped', worker = NULL, updated_at = ? WHERE id = ? "
                        "AND worker = ? AND state = 'running' AND update_id IS NULL", "IIs", now, job_id, worker_id);
    if (n < 0)
        return cat_rc(c);
    return n == 1 ? DB_OK : DB_INVALID;
}

int db_job_put_renditions(struct catalog *c, int64_t update_id, const struct db_ready *r)
{
    if (cat_exec(c, "DELETE FROM renditions WHERE update_id = ?", "I", update_id) < 0)
        return cat_rc(c);
    for (size_t i = 0; i < r->nrungs; i++) {
        const struct db_rendition *x = &r->rungs[i];
        if (cat_insert(c, "INSERT INTO renditions(update_id, name, width, height, bandwidth, avg_bandwidth, "
                          "codecs) VALUES (?, ?, ?, ?, ?, ?, ?)", "Isiiiis", update_id, x->name, x->width,
                       x->height, x->bandwidth, x->avg_bandwidth, x->codecs) < 0)
            return cat_rc(c);
    }
    return DB_OK;
}

int db_job_drop_commit(struct catalog *c, int64_t job_id, int64_t now)
{
    int rc;

    if (cat_exec(c, "UPDATE jobs SET state = 'dropped', updated_at = ? WHERE id = ?", "II", now, job_id) != 1)
        return db_fail(c);
    rc = db_commit(c);
    return rc < 0 ? rc : DB_NOTFOUND;
}

int db_job_first_done(struct catalog *c, int64_t job_id, const char *worker_id, int segments, int64_t now)
{
    int64_t update_id = 0, ours = 0;
    int rc;

    if ((rc = db_begin(c)) < 0)
        return rc;
    if ((rc = cat_get_int(c, &ours, "SELECT COUNT(*) FROM jobs WHERE id = ? AND worker = ? AND state = 'running' "
                                    "AND kind = 'first'", "Is", job_id, worker_id)) < 0)
        return db_fail(c);
    if (!ours) {
        cat_rollback(c);
        return DB_INVALID;
    }
    if ((rc = cat_get_int(c, &update_id, "SELECT COALESCE(update_id, 0) FROM jobs WHERE id = ?",
                          "I", job_id)) < 0)
        return db_fail(c);
    if (!update_id)             /* its update was deleted */
        return db_job_drop_commit(c, job_id, now);
    if (cat_exec(c, "UPDATE jobs SET state = 'done', progress = 100, eta = 0, updated_at = ? WHERE id = ?",
                 "II", now, job_id) != 1 ||
        cat_exec(c, "UPDATE updates SET first_segments = ?, "
                    "first_ready_at = CASE WHEN ? > 0 THEN COALESCE(first_ready_at, ?) END, updated_at = ? "
                    "WHERE id = ?", "iiIII", segments, segments, now, now, update_id) != 1)
        return db_fail(c);
    return db_commit(c);
}

int db_job_finish(struct catalog *c, int64_t job_id, const char *worker_id, const struct db_ready *r,
                  int (*on_ready)(struct catalog *c, int64_t update_id, void *arg), void *arg)
{
    int64_t update_id = 0;
    int rc, n;

    if ((rc = db_begin(c)) < 0)
        return rc;
    rc = cat_get_int(c, &update_id, "SELECT update_id FROM jobs WHERE id = ? AND worker = ? "
                                    "AND state = 'running'", "Is", job_id, worker_id);
    if (rc < 0)
        return db_fail(c);
    if (rc == DB_NOTFOUND) {
        /* Either the claim was taken over, or the update is gone
         * (update_id NULL): tell them apart. */
        int64_t ours = 0;
        rc = cat_get_int(c, &ours, "SELECT COUNT(*) FROM jobs WHERE id = ? AND worker = ? "
                                   "AND state = 'running'", "Is", job_id, worker_id);
        if (rc < 0)
            return db_fail(c);
        if (!ours) {
            cat_rollback(c);
            return DB_INVALID;
        }
        return db_job_drop_commit(c, job_id, r->now);     /* its update was deleted */
    }
    if (db_job_put_renditions(c, update_id, r) < 0)
        return db_fail(c);
    n = cat_exec(c, "UPDATE updates SET status = 'ready', error = '', duration = ?, width = ?, height = ?, "
                    "ready_at = ?, updated_at = ? WHERE id = ? AND status = 'processing'",
                 "diiIII", r->duration, r->width, r->height, r->now, r->now, update_id);
    if (n < 0)
        return db_fail(c);
    if (n == 0) {
        cat_rollback(c);
        return DB_INVALID;
    }
    if (cat_exec(c, "UPDATE jobs SET state = 'done', progress = 100, eta = 0, updated_at = ? WHERE id = ?",
                 "II", r->now, job_id) != 1)
        return db_fail(c);
    if (on_ready && on_ready(c, update_id, arg) < 0)
        return db_fail(c);
    return db_commit(c);
}

/* ---- used by /metrics ---- */

int db_job_count_state(struct catalog *c, const char *state, int64_t *n)
{
    return cat_get_int(c, n, "SELECT COUNT(*) FROM jobs WHERE state = ?", "s", state);
}

int db_job_count_kind(struct catalog *c, const char *kind, const char *state, int64_t *n)
{
    return cat_get_int(c, n, "SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = ?", "ss", kind, state);
}

int db_update_source(struct catalog *c, int64_t id, char path[DB_PATH_SIZE])
{
    char *v = NULL;
    int rc = cat_get_text(c, &v, "SELECT j.input_path FROM jobs j JOIN updates u ON u.id = j.update_id "
                                 "WHERE u.id = ? ORDER BY j.id DESC LIMIT 1", "I", id);

    path[0] = '\0';
    if (rc == DB_OK)
        hc_strlcpy(path, v, DB_PATH_SIZE);
    free(v);
    return rc;
}
