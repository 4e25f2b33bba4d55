/*
 * db_uploads.h - the data layer for tus uploads in progress: offsets, metadata, expiry. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_UPLOADS_H
#define HUBCAST_DB_UPLOADS_H

#include "catalog.h"


#include <stddef.h>
#include <stdint.h>

/* ---- used by the scheduler (abandoned uploads) and /metrics ---- */

/* The id of an upload. */
struct db_upload_id {
    char id[64];                   /* as in uploads/<id>.part */
};
/* Uploads that never became an update and expired before now. DB_OK with
 * *out (caller frees; NULL when *n is 0) or a negative db_rc. */
int db_upload_expired(struct catalog *c, int64_t now, struct db_upload_id **out, size_t *n);
/* Forget upload id. DB_OK, DB_NOTFOUND, or a negative db_rc. */
int db_upload_drop(struct catalog *c, const char *id);
/* Uploads still in progress (no update yet). DB_OK with *n, or a negative db_rc. */
int db_upload_count_open(struct catalog *c, int64_t *n);

#endif
