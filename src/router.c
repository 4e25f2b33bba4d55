/*
 * router.c - match a request path against "/api/people/{id}" patterns.
 * Captures never hold '/' (except a trailing RF_PREFIX capture) and are
 * bounded in length; anything longer does not match.
 */
#include "config.h"

#include <string.h>

#include "router.h"
#include "util.h"

static int match_one(const struct route *rt, const char *path, struct route_match *m)
{
    const char *p = rt->pattern, *s = path;

    m->nparams = 0;
    while (*p) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len;
            int last;

            if (!close || m->nparams >= ROUTE_MAX_PARAMS)
                return -1;
            last = close[1] == '\0';
            if (last && (rt->flags & RF_PREFIX))
                len = strlen(s);
            else
                len = strcspn(s, "/");
            if (len == 0 || len >= sizeof(m->params[0]))
                return -1;
            memcpy(m->params[m->nparams], s, len);
            m->params[m->nparams][len] = '\0';
            m->nparams++;
            s += len;
            p = close + 1;
            continue;
        }
        if (*p != *s)
            return -1;
        p++;
        s++;
    }
    return *s == '\0' ? 0 : -1;
}

int router_match(const struct route *table, size_t n, const char *method,
                 const char *path, struct route_match *m)
{
    int path_seen = 0;

    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        if (match_one(&table[i], path, m) < 0)
            continue;
        if (!strcmp(table[i].method, method) ||
            (!strcmp(method, "HEAD") && !strcmp(table[i].method, "GET"))) {
            m->route = &table[i];
            return 0;
        }
        path_seen = 1;
    }
    m->nparams = 0;
    m->method_mismatch = path_seen;
    return -1;
}
