/*
 * fuzz_router.c - libFuzzer target for request routing and path matching:
 * "METHOD PATH" against every route table the server uses, in its order.
 * Checks that a match names a route of the table and that every captured
 * parameter is a NUL-terminated piece of the path without a slash (but
 * the last capture of an RF_PREFIX route, which takes the rest).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "habit.h"
#include "mail.h"
#include "media.h"
#include "router.h"
#include "updates.h"
#include "uploads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct { const struct route *r; size_t n; } tables[] = {
        { api_routes, api_nroutes }, { upload_routes, upload_nroutes },
        { update_routes, update_nroutes }, { media_routes, media_nroutes },
        { mail_routes, mail_nroutes }, { habit_routes, habit_nroutes },
    };
    struct route_match m;
    char *s = malloc(size + 1), *sp, *path;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    sp = strchr(s, ' ');
    path = sp ? sp + 1 : s;
    if (sp)
        *sp = '\0';
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        memset(&m, 0, sizeof(m));
        if (router_match(tables[t].r, tables[t].n, sp ? s : "GET", path, &m) != 0)
            continue;
        if (m.route < tables[t].r || m.route >= tables[t].r + tables[t].n)
            abort();
        if (m.nparams < 0 || m.nparams > ROUTE_MAX_PARAMS)
            abort();
        for (int i = 0; i < m.nparams; i++) {
            int rest = (m.route->flags & RF_PREFIX) && i == m.nparams - 1;
            if (!memchr(m.params[i], '\0', sizeof(m.params[i])) || !strstr(path, m.params[i]) ||
                (!rest && strchr(m.params[i], '/')))
                abort();
        }
        break;
    }
    free(s);
    return 0;
}
