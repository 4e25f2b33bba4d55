/*
 * db_search.c - the search queries over the FTS5 index of migration 008:
 * a person's words made into a query that FTS5 cannot misread, then one
 * statement over update texts and comments, with the visibility rule of
 * db_visible.h; and the refresh that re-indexes what triggers marked stale
 * (the only writer of the index after the migration).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "db_search.h"
#include "db_visible.h"
#include "util.h"

void db_search_hits_free(struct db_search_hit **hits, size_t n)
{
    if (!*hits)
        return;
    for (size_t i = 0; i < n; i++)
        free((*hits)[i].snippet);
    free(*hits);
    *hits = NULL;
}

/* Has [s, s + n) a letter or digit (any non-ASCII byte counts as one)? */
static int has_word(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x80 || isalnum(ch))
            return 1;
    }
    return 0;
}

/* Append [s, s + n) to out at *len; 0, or -1 when it does not fit. */
static int put(char *out, size_t outsz, size_t *len, const char *s, size_t n)
{
    if (*len + n + 1 > outsz)
        return -1;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
    return 0;
}

int db_search_expr(const char *words, char *out, size_t outsz)
{
    size_t len = 0, wl;
    const char *p = words, *w;
    int terms = 0;

    if (!outsz)
        return DB_INVALID;
    out[0] = '\0';
    if (!words || strlen(words) > DB_SEARCH_QUERY_MAX)
        return DB_INVALID;
    while (*p && terms < DB_SEARCH_TERMS_MAX) {
        while (*p && isspace((unsigned char)*p))
            p++;
        for (w = p; *p && !isspace((unsigned char)*p); p++)
            ;
        if ((wl = (size_t)(p - w)) == 0 || !has_word(w, wl))
            continue;
        if (put(out, outsz, &len, terms ? " \"" : "\"", terms ? 2 : 1) < 0)
            return DB_INVALID;
        for (size_t i = 0; i < wl; i++)
            if (put(out, outsz, &len, w[i] == '"' ? "\"\"" : &w[i], w[i] == '"' ? 2 : 1) < 0)
                return DB_INVALID;
        if (put(out, outsz, &len, "\"", 1) < 0)
            return DB_INVALID;
        terms++;
    }
    if (terms && put(out, outsz, &len, "*", 1) < 0)
        return DB_INVALID;
    return terms;
}

/* An update's check-in answers (005_ritual.sql), as one text (u.id is the
 * update). */
#define SEARCH_ANSWERS_SQL "COALESCE((SELECT group_concat(a.body, char(10)) FROM update_answers a " \
                           "WHERE a.update_id = u.id), '')"

/* The statements that bring the index in step with search_stale, in order. */
static const char *const refresh_sql[] = {
    "DELETE FROM search_updates WHERE rowid IN (SELECT id FROM search_stale WHERE kind = 'update')",
    "INSERT INTO search_updates(rowid, title, description, answers) "
    "SELECT u.id, u.title, u.description, " SEARCH_ANSWERS_SQL " FROM updates u "
    "JOIN search_stale s ON s.kind = 'update' AND s.id = u.id",
    "DELETE FROM search_comments WHERE rowid IN (SELECT id FROM search_stale WHERE kind = 'comment')",
    "INSERT INTO search_comments(rowid, body) SELECT c.id, c.body FROM comments c "
    "JOIN search_stale s ON s.kind = 'comment' AND s.id = c.id",
    "DELETE FROM search_stale",
};

int db_search_refresh(struct catalog *c, int *n)
{
    int64_t stale = 0;
    int rc;

    if (n)
        *n = 0;
    rc = cat_get_int(c, &stale, "SELECT COUNT(*) FROM search_stale", "");
    if (rc < 0)
        return rc;
    if (!stale)
        return DB_OK;
    if (cat_begin(c) < 0)
        return cat_rc(c);
    for (size_t i = 0; i < HC_ARRAY_LEN(refresh_sql); i++) {
        if (cat_exec(c, refresh_sql[i], "") < 0) {
            rc = cat_rc(c);
            cat_rollback(c);
            return rc;
        }
    }
    if (cat_commit(c) < 0)
        return cat_rc(c);
    if (n)
        *n = (int)stale;
    return DB_OK;
}

/* Update texts and comments in one ranked list: update id, comment id (0),
 * comment time (NULL), snippet. Parameters: ?1 the query, ?2 the viewer,
 * ?3 admin, ?4 the limit. Title words weigh most. */
#define SEARCH_SQL \
    "SELECT u.id, 0, NULL, " \
    "  snippet(search_updates, -1, char(2), char(3), '\xe2\x80\xa6', 16), " \
    "  bm25(search_updates, 5.0, 1.0, 1.0) AS rank, u.created_at AS at " \
    "FROM search_updates JOIN updates u ON u.id = search_updates.rowid " \
    "WHERE search_updates MATCH :q AND " DB_VISIBLE " " \
    "UNION ALL " \
    "SELECT u.id, c.id, c.at_seconds, " \
    "  snippet(search_comments, 0, char(2), char(3), '\xe2\x80\xa6', 16), " \
    "  bm25(search_comments), c.created_at " \
    "FROM search_comments JOIN comments c ON c.id = search_comments.rowid " \
    "JOIN updates u ON u.id = c.update_id " \
    "WHERE search_comments MATCH :q AND " DB_VISIBLE " " \
    "ORDER BY rank, at DESC LIMIT :limit"

int db_search(struct catalog *c, const struct db_viewer *v, const char *words, long limit,
              struct db_search_hit **out, size_t *n)
{
    char expr[4 * DB_SEARCH_QUERY_MAX + 8];
    struct db_search_hit *hits;
    struct cat_stmt *st;
    size_t k = 0;
    int terms, rc = 0;

    *out = NULL;
    *n = 0;
    if ((terms = db_search_expr(words, expr, sizeof(expr))) < 0)
        return terms;
    if (terms == 0)
        return DB_OK;
    if (limit < 1 || limit > DB_SEARCH_LIMIT_MAX)
        limit = DB_SEARCH_LIMIT_MAX;
    if ((rc = db_search_refresh(c, NULL)) < 0)
        hc_log("search: the index could not catch up (%s); answering from it as it is", db_rc_name(rc));
    if (!(st = cat_query(c, SEARCH_SQL, "sIiI", expr, v->user_id, v->admin ? 1 : 0, (int64_t)limit)))
        return cat_rc(c);
    hits = hc_calloc((size_t)limit, sizeof(*hits));
    while (k < (size_t)limit && (rc = cat_step(c, st)) == 1) {
        hits[k].update_id = cat_col_int(st, 0);
        hits[k].comment_id = cat_col_int(st, 1);
        hits[k].has_at = !cat_col_null(st, 2);
        hits[k].at_seconds = hits[k].has_at ? cat_col_double(st, 2) : 0;
        hits[k].snippet = hc_strdup(cat_col_text(st, 3));
        k++;
    }
    if (k == (size_t)limit)
        cat_end(st);
    else if (rc < 0) {
        db_search_hits_free(&hits, k);
        return rc;
    }
    if (!k)
        free(hits);
    else
        *out = hits;
    *n = k;
    return DB_OK;
}
