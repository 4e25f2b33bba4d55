/*
 * db_social.c - every SQL statement about views, comments, reactions and
 * mentions.
 * Writes that also read back their result are one transaction.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_social.h"
#include "util.h"

/* Grow a caller's array by one element; returns the new element. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t size)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = hc_realloc(*arr, *cap * size);
    }
    return (char *)*arr + (*n)++ * size;
}

/* ---- views ---- */

#define VIEW_COLUMNS "v.update_id, v.user_id, s.name, v.first_seen, v.last_seen, v.position, v.completed "

static void read_view(struct cat_stmt *st, struct db_view *v)
{
    v->update_id = cat_col_int(st, 0);
    v->user_id = cat_col_int(st, 1);
    cat_col_copy(st, 2, v->user_name, sizeof(v->user_name));
    v->first_seen = cat_col_int(st, 3);
    v->last_seen = cat_col_int(st, 4);
    v->position = cat_col_double(st, 5);
    v->completed = cat_col_int(st, 6) != 0;
}

int db_view_get(struct catalog *c, int64_t update_id, int64_t user_id, struct db_view *out)
{
    struct cat_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    st = cat_query(c, "SELECT " VIEW_COLUMNS "FROM views v JOIN users s ON s.id = v.user_id "
                      "WHERE v.update_id = ? AND v.user_id = ?", "II", update_id, user_id);
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc == 0 ? DB_NOTFOUND : rc;
    read_view(st, out);
    cat_end(st);
    return DB_OK;
}

int db_view_gets(struct catalog *c, const int64_t *ids, size_t n, int64_t user_id, struct db_view *out,
                 int *found)
{
    static const char *const sql[2] = {
        "SELECT " VIEW_COLUMNS ", l.i FROM views v JOIN users s ON s.id = v.user_id "
        "JOIN " CAT_LIST_IDS_SQLITE("?1") " l ON l.v = v.update_id WHERE v.user_id = ?2",
        "SELECT " VIEW_COLUMNS ", l.i FROM views v JOIN users s ON s.id = v.user_id "
        "JOIN " CAT_LIST_IDS_PG("?1") " l ON l.v = v.update_id WHERE v.user_id = ?2",
    };
    struct cat_stmt *st;
    int rc;

    memset(out, 0, n * sizeof(*out));
    memset(found, 0, n * sizeof(*found));
    if (!n)
        return DB_OK;
    st = cat_query_ids(c, sql, ids, n, "I", user_id);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        int64_t i = cat_col_int(st, 7);
        if (i >= 0 && (size_t)i < n) {
            read_view(st, &out[i]);
            found[i] = 1;
        }
    }
    if (rc < 0)
        memset(found, 0, n * sizeof(*found));
    return rc < 0 ? rc : DB_OK;
}

int db_view_record(struct catalog *c, int64_t update_id, int64_t user_id, int64_t now,
                   double position, int completed, struct db_view *out)
{
    int rc;

    if (cat_begin(c) < 0)
        return db_fail(c);
    if (cat_exec(c, "INSERT INTO views(update_id, user_id, first_seen, last_seen, position, completed) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(update_id, user_id) DO UPDATE SET "
                    "last_seen = excluded.last_seen, position = MAX(views.position, excluded.position), "
                    "completed = MAX(views.completed, excluded.completed)",
                 "IIIIdi", update_id, user_id, now, now, position, completed ? 1 : 0) < 0)
        return db_fail(c);
    rc = db_view_get(c, update_id, user_id, out);
    if (rc != DB_OK) {
        cat_rollback(c);
        return rc < 0 ? rc : DB_ERROR;
    }
    return db_commit(c);
}

int db_view_list(struct catalog *c, int64_t update_id, struct db_view **out, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    /* The author opening their own update is not a view of it. */
    st = cat_query(c, "SELECT " VIEW_COLUMNS "FROM views v JOIN users s ON s.id = v.user_id "
                      "JOIN updates p ON p.id = v.update_id "
                      "WHERE v.update_id = ? AND v.user_id <> p.author_id "
                      "ORDER BY v.last_seen DESC, v.user_id", "I", update_id);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1)
        read_view(st, grow((void **)out, n, &cap, sizeof(**out)));
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

/* ---- comments ---- */

#define COMMENT_COLUMNS "m.id, m.update_id, m.user_id, s.name, m.body, m.at_seconds, m.created_at "

static void read_comment(struct cat_stmt *st, struct db_comment *m)
{
    memset(m, 0, sizeof(*m));
    m->id = cat_col_int(st, 0);
    m->update_id = cat_col_int(st, 1);
    m->user_id = cat_col_int(st, 2);
    cat_col_copy(st, 3, m->user_name, sizeof(m->user_name));
    m->body = hc_strdup(cat_col_text(st, 4));
    m->has_at = !cat_col_null(st, 5);
    m->at_seconds = cat_col_double(st, 5);
    m->created_at = cat_col_int(st, 6);
}

void db_comment_free(struct db_comment *m)
{
    if (!m)
        return;
    free(m->body);
    m->body = NULL;
}

void db_comment_list_free(struct db_comment **list, size_t n)
{
    if (!*list)
        return;
    for (size_t i = 0; i < n; i++)
        db_comment_free(&(*list)[i]);
    free(*list);
    *list = NULL;
}

int db_comment_add(struct catalog *c, int64_t update_id, int64_t user_id, double at, const char *body,
                   int64_t now, int (*on_added)(struct catalog *c, int64_t comment_id, void *arg),
                   void *arg, int64_t *id)
{
    int64_t cid;

    if (cat_begin(c) < 0)
        return db_fail(c);
    cid = cat_insert(c, "INSERT INTO comments(update_id, user_id, at_seconds, body, created_at) "
                        "VALUES (?, ?, NULLIF(?, -1.0), ?, ?)",
                     "IIdsI", update_id, user_id, at >= 0 ? at : -1.0, body, now);
    if (cid < 0)
        return db_fail(c);
    if (on_added && on_added(c, cid, arg) < 0)
        return db_fail(c);
    *id = cid;
    return db_commit(c);
}

int db_comment_get(struct catalog *c, int64_t id, struct db_comment *out)
{
    struct cat_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    st = cat_query(c, "SELECT " COMMENT_COLUMNS "FROM comments m JOIN users s ON s.id = m.user_id "
                      "WHERE m.id = ?", "I", id);
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc == 0 ? DB_NOTFOUND : rc;
    read_comment(st, out);
    cat_end(st);
    return DB_OK;
}

int db_comment_list(struct catalog *c, int64_t update_id, struct db_comment **out, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    st = cat_query(c, "SELECT " COMMENT_COLUMNS "FROM comments m JOIN users s ON s.id = m.user_id "
                      "WHERE m.update_id = ? ORDER BY COALESCE(m.at_seconds, 1e12), m.id", "I", update_id);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1)
        read_comment(st, grow((void **)out, n, &cap, sizeof(**out)));
    if (rc < 0) {
        db_comment_list_free(out, *n);
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_comment_owner(struct catalog *c, int64_t id, int64_t *user_id)
{
    return cat_get_int(c, user_id, "SELECT user_id FROM comments WHERE id = ?", "I", id);
}

int db_comment_delete(struct catalog *c, int64_t id)
{
    int n = cat_exec(c, "DELETE FROM comments WHERE id = ?", "I", id);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : DB_NOTFOUND;
}

/* ---- reactions ---- */

#define REACTION_COLUMNS "x.id, x.update_id, x.user_id, s.name, x.emoji, x.at_seconds, x.created_at "

static void read_reaction(struct cat_stmt *st, struct db_reaction *x)
{
    memset(x, 0, sizeof(*x));
    x->id = cat_col_int(st, 0);
    x->update_id = cat_col_int(st, 1);
    x->user_id = cat_col_int(st, 2);
    cat_col_copy(st, 3, x->user_name, sizeof(x->user_name));
    cat_col_copy(st, 4, x->emoji, sizeof(x->emoji));
    x->has_at = !cat_col_null(st, 5);
    x->at_seconds = cat_col_double(st, 5);
    x->created_at = cat_col_int(st, 6);
}

int db_reaction_add(struct catalog *c, int64_t update_id, int64_t user_id, const char *emoji, double at,
                    int64_t now, struct db_reaction *out, int *created)
{
    struct cat_stmt *st;
    int n, rc;

    memset(out, 0, sizeof(*out));
    if (cat_begin(c) < 0)
        return db_fail(c);
    n = cat_exec(c, "INSERT INTO reactions(update_id, user_id, emoji, at_seconds, created_at) "
                    "VALUES (?, ?, ?, NULLIF(?, -1.0), ?) ON CONFLICT(update_id, user_id, emoji) DO NOTHING",
                 "IIsdI", update_id, user_id, emoji, at >= 0 ? at : -1.0, now);
    if (n < 0)
        return db_fail(c);
    st = cat_query(c, "SELECT " REACTION_COLUMNS "FROM reactions x JOIN users s ON s.id = x.user_id "
                      "WHERE x.update_id = ? AND x.user_id = ? AND x.emoji = ?", "IIs", update_id, user_id, emoji);
    if (!st)
        return db_fail(c);
    if ((rc = cat_step(c, st)) != 1) {
        cat_rollback(c);
        return rc < 0 ? rc : DB_ERROR;
    }
    read_reaction(st, out);
    cat_end(st);
    *created = n > 0;
    return db_commit(c);
}

int db_reaction_list(struct catalog *c, int64_t update_id, struct db_reaction **out, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    st = cat_query(c, "SELECT " REACTION_COLUMNS "FROM reactions x JOIN users s ON s.id = x.user_id "
                      "WHERE x.update_id = ? ORDER BY x.id", "I", update_id);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1)
        read_reaction(st, grow((void **)out, n, &cap, sizeof(**out)));
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_reaction_owner(struct catalog *c, int64_t id, int64_t *user_id)
{
    return cat_get_int(c, user_id, "SELECT user_id FROM reactions WHERE id = ?", "I", id);
}

int db_reaction_delete(struct catalog *c, int64_t id)
{
    int n = cat_exec(c, "DELETE FROM reactions WHERE id = ?", "I", id);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : DB_NOTFOUND;
}

/* ---- mentions ---- */

int db_mention_people(struct catalog *c, struct db_mention_person **out, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    st = cat_query(c, "SELECT id, name FROM users WHERE deactivated = 0 ORDER BY id", "");
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        struct db_mention_person *p = grow((void **)out, n, &cap, sizeof(**out));
        p->id = cat_col_int(st, 0);
        cat_col_copy(st, 1, p->name, sizeof(p->name));
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_mention_add(struct catalog *c, const struct db_mention_new *m, int *created)
{
    int k;

    *created = 0;
    k = cat_exec(c, "INSERT INTO mentions(user_id, by_user, update_id, comment_id, source, excerpt, created_at) "
                    "VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?) ON CONFLICT(user_id, source) DO NOTHING",
                 "IIIIssI", m->user_id, m->by_user, m->update_id, m->comment_id, m->source, m->excerpt, m->now);
    if (k < 0)
        return cat_rc(c);
    *created = k > 0;
    return DB_OK;
}

int db_mention_list_update(struct catalog *c, int64_t update_id, struct db_mention **out, size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    st = cat_query(c, "SELECT k.id, k.user_id, k.by_user, b.name, k.update_id, u.title, u.kind, u.status, "
                      "COALESCE(k.comment_id, 0), k.source, k.excerpt FROM mentions k "
                      "JOIN users b ON b.id = k.by_user JOIN updates u ON u.id = k.update_id "
                      "WHERE k.update_id = ? ORDER BY k.id", "I", update_id);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        struct db_mention *k = grow((void **)out, n, &cap, sizeof(**out));
        memset(k, 0, sizeof(*k));
        k->id = cat_col_int(st, 0);
        k->user_id = cat_col_int(st, 1);
        k->by_user = cat_col_int(st, 2);
        cat_col_copy(st, 3, k->by_name, sizeof(k->by_name));
        k->update_id = cat_col_int(st, 4);
        cat_col_copy(st, 5, k->title, sizeof(k->title));
        cat_col_copy(st, 6, k->kind, sizeof(k->kind));
        cat_col_copy(st, 7, k->status, sizeof(k->status));
        k->comment_id = cat_col_int(st, 8);
        cat_col_copy(st, 9, k->source, sizeof(k->source));
        cat_col_copy(st, 10, k->excerpt, sizeof(k->excerpt));
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}
