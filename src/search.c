/*
 * search.c - GET /api/search?q=WORDS[&limit=N]: the updates and comments
 * the caller may see that contain every word (accents and case aside; the
 * last word may be the start of one), best first. Each result carries the
 * same update JSON as GET /api/updates/{id}, the matching text around the
 * words (plain, and as HTML with <mark>), and for a comment its id and,
 * when it was pinned to a time, at_seconds. The words are never read as
 * FTS5 syntax (db_search_expr), so no input is a server error.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db_search.h"
#include "db_updates.h"
#include "http.h"
#include "search.h"
#include "updates.h"
#include "util.h"

#define SEARCH_LIMIT_DEFAULT 20

json_t *search_snippet_json(const char *s, int html)
{
    static const struct { char ch; const char *as; } esc[] = {
        { '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" }, { '"', "&quot;" }, { '\'', "&#39;" },
    };
    size_t len = 0;
    char *buf;
    json_t *j;

    s = s ? s : "";
    buf = hc_calloc(strlen(s) * 7 + 1, 1);   /* "</mark>" is the longest a byte becomes */
    for (const char *p = s; *p; p++) {
        const char *as = NULL;
        if (*p == DB_SEARCH_MARK_ON[0])
            as = html ? "<mark>" : "";
        else if (*p == DB_SEARCH_MARK_OFF[0])
            as = html ? "</mark>" : "";
        for (size_t i = 0; html && !as && i < HC_ARRAY_LEN(esc); i++)
            if (*p == esc[i].ch)
                as = esc[i].as;
        if (as) {
            memcpy(buf + len, as, strlen(as));
            len += strlen(as);
        } else {
            buf[len++] = *p;
        }
    }
    j = json_stringn(buf, len);
    free(buf);
    return j ? j : json_string("");
}

static json_t *result_json(json_t *update, const struct db_search_hit *h)
{
    json_t *o = json_pack("{s:O,s:o,s:o}", "update", update, "snippet", search_snippet_json(h->snippet, 0),
                          "snippet_html", search_snippet_json(h->snippet, 1));

    if (o && h->comment_id)
        json_object_set_new(o, "comment_id", json_integer(h->comment_id));
    if (o && h->has_at)
        json_object_set_new(o, "at_seconds", json_real(h->at_seconds));
    return o;
}

static int h_search(struct req *r, struct resp *o)
{
    const char *q = http_get_arg(r, "q"), *ls = http_get_arg(r, "limit");
    long limit = SEARCH_LIMIT_DEFAULT;
    struct db_search_hit *hits;
    struct db_viewer v;
    json_t *arr, **made;
    int64_t *ids;
    size_t n, nids = 0;
    int rc = DB_OK;

    if (!q || !*q)
        return http_error(o, 400, "missing_query", "say what to search for with q");
    if (strlen(q) > DB_SEARCH_QUERY_MAX)
        return http_error(o, 400, "query_too_long", "a search is at most %d characters", DB_SEARCH_QUERY_MAX);
    if (ls && hc_parse_long(ls, 1, DB_SEARCH_LIMIT_MAX, &limit) < 0)
        return http_error(o, 400, "bad_page", "limit must be 1 to %d", DB_SEARCH_LIMIT_MAX);
    updates_viewer(r, &v);
    rc = db_search(r->cat, &v, q, limit, &hits, &n);
    if (rc == DB_INVALID)
        return http_error(o, 400, "query_too_long", "a search is at most %d characters", DB_SEARCH_QUERY_MAX);
    if (rc < 0)
        return api_db_fail(o, rc, "searching");
    /* The updates found, each once, read together; an update gone or
     * hidden meanwhile is left out. */
    ids = hc_calloc(n ? n : 1, sizeof(*ids));
    made = hc_calloc(n ? n : 1, sizeof(*made));
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < nids && ids[k] != hits[i].update_id)
            k++;
        if (k == nids)
            ids[nids++] = hits[i].update_id;
    }
    rc = updates_gets_json(r->cat, &v, ids, nids, made);
    arr = json_array();
    for (size_t i = 0; i < n && rc >= 0; i++) {
        size_t k = 0;
        while (ids[k] != hits[i].update_id)
            k++;
        if (made[k])
            json_array_append_new(arr, result_json(made[k], &hits[i]));
    }
    for (size_t i = 0; i < nids; i++)
        json_decref(made[i]);
    free(made);
    free(ids);
    db_search_hits_free(&hits, n);
    if (rc < 0) {
        json_decref(arr);
        return api_db_fail(o, rc, "reading the updates found");
    }
    return http_json(o, 200, json_pack("{s:o}", "results", arr));
}

const struct route search_routes[] = {
    { "GET", "/api/search", h_search, ROLE_MEMBER, 0, NULL },
};
const size_t search_nroutes = HC_ARRAY_LEN(search_routes);
