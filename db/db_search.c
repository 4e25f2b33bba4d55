/*
 * db_search.c - the search queries over the full-text index: SQLite's
 * FTS5 tables of migration 006, PostgreSQL's tsvector tables of pg/011
 * (the unaccent dictionary, a GIN index). A person's words become a
 * query that the engine cannot misread, then one statement over update
 * texts and comments, with the visibility rule of db_visible.h; and the
 * refresh that re-indexes what triggers marked stale (the only writer of
 * the index after the migration). Each engine has its own statements
 * here; the rules around them are shared.
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

/* Whether [s, s + n) is UTF-8 that PostgreSQL takes as text: no
 * overlong forms, surrogates or code points past U+10FFFF. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
                     c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
            return 0;
        i += len;
    }
    return 1;
}

/* The next term of a person's words from *p: a run of non-blank bytes
 * with a letter or digit (and, with need_utf8, valid UTF-8). 1 with
 * [*w, *w + *wl) and *p moved past it, 0 at the end. */
static int next_term(const char **p, int need_utf8, const char **w, size_t *wl)
{
    const char *s = *p;

    for (;;) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (!*s) {
            *p = s;
            return 0;
        }
        for (*w = s; *s && !isspace((unsigned char)*s); s++)
            ;
        *wl = (size_t)(s - *w);
        if (has_word(*w, *wl) && (!need_utf8 || utf8_ok((const unsigned char *)*w, *wl))) {
            *p = s;
            return 1;
        }
    }
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
    while (terms < DB_SEARCH_TERMS_MAX && next_term(&p, 0, &w, &wl)) {
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

/* The same terms for PostgreSQL, as SEARCH_SQL_PG reads them: separated
 * by one space (a term has none), each turned into a phrase there. Terms
 * that are not valid UTF-8 are dropped (PostgreSQL would refuse the
 * text). The number of terms, or DB_INVALID as db_search_expr. */
static int search_terms_pg(const char *words, char *out, size_t outsz)
{
    size_t len = 0, wl;
    const char *p = words, *w;
    int terms = 0;

    out[0] = '\0';
    if (!words || strlen(words) > DB_SEARCH_QUERY_MAX)
        return DB_INVALID;
    while (terms < DB_SEARCH_TERMS_MAX && next_term(&p, 1, &w, &wl)) {
        if ((terms && put(out, outsz, &len, " ", 1) < 0) || put(out, outsz, &len, w, wl) < 0)
            return DB_INVALID;
        terms++;
    }
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

/* PostgreSQL: there single statements of other connections do not wait
 * for the refresh's transaction, so a row marked stale while it runs must
 * not be unmarked unseen. Each statement takes the marks it handles out
 * of search_stale itself (DELETE ... RETURNING), then, in the same
 * snapshot, indexes the rows that still exist (the tsvector is a
 * generated column) and removes those that are gone. */
#define SEARCH_ANSWERS_PG "COALESCE((SELECT string_agg(a.body, E'\\n' ORDER BY a.position) " \
                          "FROM update_answers a WHERE a.update_id = u.id), '')"
static const char *const refresh_sql_pg[] = {
    "WITH gone AS (DELETE FROM search_stale WHERE kind = 'update' RETURNING id), "
    "dropped AS (DELETE FROM search_updates s USING gone WHERE s.id = gone.id "
    "            AND NOT EXISTS (SELECT 1 FROM updates x WHERE x.id = gone.id)) "
    "INSERT INTO search_updates(id, title, description, answers) "
    "SELECT u.id, u.title, u.description, " SEARCH_ANSWERS_PG " FROM updates u JOIN gone ON gone.id = u.id "
    "ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description, "
    "answers = EXCLUDED.answers",
    "WITH gone AS (DELETE FROM search_stale WHERE kind = 'comment' RETURNING id), "
    "dropped AS (DELETE FROM search_comments s USING gone WHERE s.id = gone.id "
    "            AND NOT EXISTS (SELECT 1 FROM comments x WHERE x.id = gone.id)) "
    "INSERT INTO search_comments(id, body) SELECT c.id, c.body FROM comments c JOIN gone ON gone.id = c.id "
    "ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
};

int db_search_refresh(struct catalog *c, int *n)
{
    int64_t stale = 0;
    int pg = cat_is_pg(c), rc;

    if (n)
        *n = 0;
    rc = cat_get_int(c, &stale, "SELECT COUNT(*) FROM search_stale", "");
    if (rc < 0)
        return rc;
    if (!stale)
        return DB_OK;
    if (cat_begin(c) < 0)
        return cat_rc(c);
    for (size_t i = 0; i < (pg ? HC_ARRAY_LEN(refresh_sql_pg) : HC_ARRAY_LEN(refresh_sql)); i++) {
        if (cat_exec(c, pg ? refresh_sql_pg[i] : refresh_sql[i], "") < 0) {
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

/* PostgreSQL: the same list. ?1 the terms (search_terms_pg): each one a
 * phrase (phraseto_tsquery: nothing in it is syntax), all of them must
 * match, the last one may be the start of a word (:*). Rank: ts_rank,
 * title words (weight A) five times the rest (B), divided by 1 + log of
 * the text's length; ties: newest first. Snippets are cut from the best
 * limit hits only (ts_headline of the title when it matches, else of the
 * description, else of the answers), with an ellipsis where text was
 * left out, as SQLite's snippet(). The default parser takes "<b>" in a
 * text for an HTML tag, which ts_headline drops: the text goes in with
 * each '<' as chr(1) and comes out with it back, so that what a person
 * wrote is what the snippet shows, as on SQLite. */
#define SEARCH_HEADLINE_OPTS \
    "'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=16, MinWords=8'"
#define SEARCH_SQL_PG \
    "WITH q AS (" \
    " SELECT COALESCE(string_agg('(' || t || CASE WHEN n = last THEN ':*' ELSE '' END || ')', ' & ' " \
    "                            ORDER BY n), '')::tsquery AS q " \
    " FROM (SELECT t, n, max(n) OVER () AS last " \
    "       FROM (SELECT phraseto_tsquery('hubcast_search', w)::text AS t, n " \
    "             FROM unnest(string_to_array(:q, ' ')) WITH ORDINALITY AS x(w, n)) p " \
    "       WHERE t <> '') w), " \
    "hits AS (" \
    " SELECT u.id AS update_id, 0 AS comment_id, NULL::float8 AS at_seconds, s.title, s.description, " \
    "   s.answers, ts_rank('{0.2, 0.2, 0.2, 1.0}', s.doc, q.q, 1) AS rank, u.created_at AS at " \
    " FROM q CROSS JOIN search_updates s JOIN updates u ON u.id = s.id " \
    " WHERE s.doc @@ q.q AND " DB_VISIBLE " " \
    " UNION ALL " \
    " SELECT u.id, c.id, c.at_seconds, s.body, NULL, NULL, ts_rank('{0.2, 0.2, 0.2, 1.0}', s.doc, q.q, 1), " \
    "   c.created_at " \
    " FROM q CROSS JOIN search_comments s JOIN comments c ON c.id = s.id " \
    " JOIN updates u ON u.id = c.update_id " \
    " WHERE s.doc @@ q.q AND " DB_VISIBLE " " \
    " ORDER BY rank DESC, at DESC LIMIT :limit) " \
    "SELECT h.update_id, h.comment_id, h.at_seconds, " \
    "  replace(CASE WHEN strpos(x.text, x.plain) > 1 THEN '\xe2\x80\xa6' ELSE '' END || x.hl || " \
    "  CASE WHEN strpos(x.text, x.plain) + length(x.plain) <= length(rtrim(x.text)) " \
    "       THEN '\xe2\x80\xa6' ELSE '' END, chr(1), '<') " \
    "FROM hits h CROSS JOIN q CROSS JOIN LATERAL (" \
    " SELECT t.text, hl, replace(replace(hl, chr(2), ''), chr(3), '') AS plain " \
    " FROM (SELECT replace(CASE WHEN h.description IS NULL THEN h.title " \
    "              WHEN to_tsvector('hubcast_search', h.title) @@ q.q THEN h.title " \
    "              WHEN to_tsvector('hubcast_search', h.description) @@ q.q THEN h.description " \
    "              ELSE h.answers END, '<', chr(1)) AS text) t " \
    " CROSS JOIN LATERAL ts_headline('hubcast_search', t.text, q.q, " SEARCH_HEADLINE_OPTS ") AS hl) x " \
    "ORDER BY h.rank DESC, h.at DESC"

int db_search(struct catalog *c, const struct db_viewer *v, const char *words, long limit,
              struct db_search_hit **out, size_t *n)
{
    char expr[4 * DB_SEARCH_QUERY_MAX + 8];
    struct db_search_hit *hits;
    struct cat_stmt *st;
    size_t k = 0;
    int pg = cat_is_pg(c), terms, rc = 0;

    *out = NULL;
    *n = 0;
    terms = pg ? search_terms_pg(words, expr, sizeof(expr)) : db_search_expr(words, expr, sizeof(expr));
    if (terms < 0)
        return terms;
    if (terms == 0)
        return DB_OK;
    if (limit < 1 || limit > DB_SEARCH_LIMIT_MAX)
        limit = DB_SEARCH_LIMIT_MAX;
    if ((rc = db_search_refresh(c, NULL)) < 0)
        hc_log("search: the index could not catch up (%s); answering from it as it is", db_rc_name(rc));
    if (!(st = cat_query(c, pg ? SEARCH_SQL_PG : SEARCH_SQL, "sIiI", expr, v->user_id, v->admin ? 1 : 0,
                         (int64_t)limit)))
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
