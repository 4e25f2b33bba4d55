/*
 * router.h - the routing table: method, path pattern with {name} captures,
 * handler and the role it requires. Pure code, unit-tested.
 */
#ifndef HUBCAST_ROUTER_H
#define HUBCAST_ROUTER_H

#include <stddef.h>

#include "db_accounts.h"    /* enum role: the least role a route needs */

#define ROUTE_MAX_PARAMS 4

struct req;
struct resp;
typedef int (*handler_fn)(struct req *r, struct resp *o);

/* Route flags. */
#define RF_STREAM   0x1   /* the handler consumes the body itself (uploads) */
#define RF_NOCSRF   0x2   /* state-changing but exempt from the CSRF token (login) */
#define RF_PREFIX   0x4   /* the last capture takes the rest of the path */

struct route {
    const char *method;
    const char *pattern;
    handler_fn  handler;
    enum role   role;
    unsigned    flags;
    /* Streaming body callback for RF_STREAM routes. */
    int (*body)(struct req *r, const char *data, size_t len);
};

struct route_match {
    const struct route *route;
    int   nparams;
    char  params[ROUTE_MAX_PARAMS][256];
    int   method_mismatch;   /* path matched another method: 405 */
};

/* Find the route for method and path. Returns 0 if found. */
int router_match(const struct route *table, size_t n, const char *method,
                 const char *path, struct route_match *m);

#endif
