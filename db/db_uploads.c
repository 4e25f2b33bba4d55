/*
 * db_uploads.c - tus uploads in progress: offsets, metadata, expiry: every SQL statement about them.
 */
#include "config.h"

#include <stdlib.h>

#include "db_uploads.h"
#include "util.h"

/* ---- used by the scheduler (abandoned uploads) and /metrics ---- */

int db_upload_expired(struct catalog *c, int64_t now, struct db_upload_id **out, size_t *n)
{
    struct cat_stmt *st = cat_query(c, "SELECT id FROM uploads WHERE update_id IS NULL AND expires_at < ?",
                                    "I", now);
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        if (*n == cap)
            *out = hc_realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(**out));
        cat_col_copy(st, 0, (*out)[(*n)++].id, sizeof((*out)->id));
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_upload_drop(struct catalog *c, const char *id)
{
    int n = cat_exec(c, "DELETE FROM uploads WHERE id = ?", "s", id);

    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : DB_NOTFOUND;
}

int db_upload_count_open(struct catalog *c, int64_t *n)
{
    return cat_get_int(c, n, "SELECT COUNT(*) FROM uploads WHERE update_id IS NULL", "");
}
