/*
 * leader.c - named leadership: a PostgreSQL session advisory lock on a
 * connection of its own (see leader.h); always held on SQLite.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "catalog_pg.h"
#include "leader.h"
#include "util.h"

/* The first key of every leadership lock ("HUBL"); the second is the
 * hash of the name. Two-key advisory locks do not meet the one-key lock
 * of catalog_pg.c's writers. */
#define LEADER_CLASS 1213547596

struct leader {
    struct catalog *c;       /* NULL: SQLite, always the leader */
    char  *name;
    int    held;
};

struct leader *leader_open(const char *catalog, const char *name, char *err, size_t errsz)
{
    struct leader *l = hc_calloc(1, sizeof(*l));

    l->name = hc_strdup(name);
    if (!catpg_is_url(catalog)) {
        l->held = 1;
        return l;
    }
    if (!(l->c = catalog_open(catalog, 0, err, errsz))) {
        free(l->name);
        free(l);
        return NULL;
    }
    /* A holder whose machine vanished (no FIN, no RST) is dropped by the
     * server once keepalives fail: 10 s idle, then 3 probes 5 s apart. */
    if (cat_exec(l->c, "SET tcp_keepalives_idle = 10", "") < 0 ||
        cat_exec(l->c, "SET tcp_keepalives_interval = 5", "") < 0 ||
        cat_exec(l->c, "SET tcp_keepalives_count = 3", "") < 0)
        hc_log("leader: cannot set keepalives: %s", cat_errmsg(l->c));
    return l;
}

int leader_hold(struct leader *l)
{
    int64_t v = 0;
    int rc;

    if (!l->c)
        return 1;
    if (l->held) {
        /* Still ours on this very session? (A connection lost and made
         * again lost the lock with it.) */
        rc = cat_get_int(l->c, &v,
                         "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                         "AND pid = pg_backend_pid() AND classid = CAST(? AS oid) "
                         "AND objid = CAST(CAST(hashtext(?) AS bigint) & 4294967295 AS oid) "
                         "AND objsubid = 2", "Is", (int64_t)LEADER_CLASS, l->name);
        if (rc == DB_OK && v > 0)
            return 1;
        hc_log("leader: lost the %s leadership (%s)", l->name,
               rc == DB_OK ? "lock gone" : db_rc_name(rc));
        l->held = 0;
        if (rc < 0)
            return rc;
    }
    rc = cat_get_int(l->c, &v, "SELECT pg_try_advisory_lock(CAST(? AS integer), hashtext(?))",
                     "Is", (int64_t)LEADER_CLASS, l->name);
    if (rc < 0)
        return rc;
    if (rc == DB_OK && v == 1) {
        l->held = 1;
        hc_log("leader: this process now leads %s", l->name);
        return 1;
    }
    return 0;
}

void leader_close(struct leader *l)
{
    if (!l)
        return;
    if (l->c) {
        int64_t v;
        if (l->held)
            cat_get_int(l->c, &v, "SELECT pg_advisory_unlock(CAST(? AS integer), hashtext(?))",
                        "Is", (int64_t)LEADER_CLASS, l->name);
        catalog_close(l->c);
    }
    free(l->name);
    free(l);
}
