/*
 * db_uploads.h - the data layer for tus uploads in progress: the row that
 * stands for an upload's "uploading" stage (length, confirmed offset,
 * metadata, expiry) and its end, when it becomes an update and a job in
 * one transaction. Typed functions returning enum db_rc (catalog.h); no
 * caller outside db/ sees SQL. The bytes themselves are the caller's
 * (DATA/uploads/<id>.part, see src/layout.h, or an S3 multipart upload,
 * see src/upload_store.h).
 */
#ifndef HUBCAST_DB_UPLOADS_H
#define HUBCAST_DB_UPLOADS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "db_updates.h"

#define DB_UPLOAD_ID_SIZE 24     /* an upload id and its NUL */

struct db_upload {
    char    id[DB_UPLOAD_ID_SIZE]; /* random, URL-safe */
    int64_t user_id;             /* whose upload it is */
    int64_t length;              /* total bytes, -1 while deferred */
    int64_t offset;              /* bytes confirmed on disk */
    char   *metadata;            /* the Upload-Metadata header as sent; malloc'd */
    char    filename[256];
    char    filetype[104];
    char    title[256];
    char   *description;         /* malloc'd */
    char    kind[16];            /* "weekly" or "allhands" */
    int64_t update_id;           /* the update it became, 0 while uploading */
    int64_t created_at;
    int64_t expires_at;          /* an unfinished upload is removed after this */
    /* Kept in the S3 store (src/upload_store.c); "", 0 or NULL on local disk. */
    char    s3_upload_id[256];   /* the multipart upload of uploads/<id> */
    int     s3_parts;            /* parts stored */
    char   *s3_etags;            /* theirs, "N:ETag" in order, space-separated; malloc'd */
    int     s3_last_number;      /* the last part number handed out (db_upload_s3_number) */
    int64_t s3_tail;             /* bytes past the parts, in the tail object */
    char    s3_tail_name[48];    /* its name: uploads/<id>.tail.<name> ("" = none) */
};
void db_upload_free(struct db_upload *u);

/* Unfinished, unexpired uploads of user_id: DB_OK with *n, or negative. */
int db_upload_count_open(struct catalog *c, int64_t user_id, int64_t now, int64_t *n);
/* Insert a new upload (offset 0, no update; u->s3_upload_id when the
 * bytes go to the S3 store). DB_OK, DB_CONSTRAINT (the id is taken), or a
 * negative db_rc. */
int db_upload_create(struct catalog *c, const struct db_upload *u);
/* user_id's upload id (someone else's is not found): DB_OK with *out (free
 * with db_upload_free), DB_NOTFOUND, or a negative db_rc. */
int db_upload_get(struct catalog *c, const char *id, int64_t user_id, struct db_upload *out);
/* Give a deferred length its value. DB_OK; DB_INVALID when the length was
 * already known or the upload is finished; DB_NOTFOUND; or negative. */
int db_upload_set_length(struct catalog *c, const char *id, int64_t length);
/* Move the confirmed offset from `from` to `to` (bytes that fdatasync put
 * on disk) and push the expiry to expires_at. DB_OK; DB_INVALID when the
 * stored offset is not `from` any more (another request moved it) or the
 * upload is finished; DB_NOTFOUND; or negative (nothing changed). */
int db_upload_advance(struct catalog *c, const char *id, int64_t from, int64_t to, int64_t expires_at);
/* Remove the record (the caller removes the bytes when they are not an
 * update's). DB_OK, DB_NOTFOUND, or negative. */
int db_upload_delete(struct catalog *c, const char *id);

/*
 * A new deferred-length upload that is transcoded as it arrives: its
 * record (as db_upload_create) and, in the same transaction, its update
 * (uploading, unpublished: its author alone sees it) with a first job
 * (db_update_insert_live; in->upload_id is u->id). DB_OK with *update_id,
 * DB_CONSTRAINT (the id is taken), or a negative db_rc (nothing created).
 */
int db_upload_create_live(struct catalog *c, const struct db_upload *u, const struct db_update_new *in,
                          int64_t *update_id);

/*
 * uploading -> finished, in one transaction. An upload with a live update
 * (db_upload_create_live): that update uploading -> queued, published,
 * and its ladder job queued. Any
 * other: a new update queued with its jobs (db_update_insert_queued). The
 * upload's record then names the update. DB_OK with *update_id;
 * DB_INVALID when it is already finished; DB_NOTFOUND; or a negative
 * db_rc (nothing changed).
 */
int db_upload_finish(struct catalog *c, const char *id, int64_t offset, const struct db_update_new *in,
                     int64_t *update_id);
/* A one-request upload: its record (already finished) and its update and
 * job, in one transaction. DB_OK with *update_id, or negative. */
int db_upload_oneshot(struct catalog *c, const struct db_upload *u, const struct db_update_new *in,
                      int64_t *update_id);

/*
 * Termination (tus DELETE, a retake) of an unfinished upload: its record
 * and its live update (uploading, never published) go, in one
 * transaction; the update's jobs stay without an update (dropped at the
 * next claim, a running one loses its claim at its next heartbeat). DB_OK
 * with *update_id (the live update removed, 0 if none), DB_INVALID when
 * the upload is finished (use db_upload_delete), DB_NOTFOUND, or a
 * negative db_rc (nothing changed).
 */
int db_upload_terminate(struct catalog *c, const char *id, int64_t *update_id);

/*
 * An unfinished upload past its expiry ends, in one transaction: its
 * record goes; its live update uploading -> failed with reason (never
 * published), and that update's queued or running jobs -> failed (a
 * running one loses its claim). DB_OK with *update_id (0 if it had no
 * live update), DB_INVALID when it is finished, DB_NOTFOUND, or a
 * negative db_rc (nothing changed).
 */
int db_upload_expire(struct catalog *c, const char *id, const char *reason, int64_t now, int64_t *update_id);

/* The live update of unfinished upload id (db_upload_create_live): DB_OK
 * with *update_id, DB_NOTFOUND when it has none, or a negative db_rc. */
int db_upload_live_update(struct catalog *c, const char *id, int64_t *update_id);

/* Ids of unfinished uploads that expired before now: DB_OK with *ids (an
 * array of *n, free()) or negative. */
int db_upload_expired(struct catalog *c, int64_t now, char (**ids)[DB_UPLOAD_ID_SIZE], size_t *n);

/*
 * The lease that lets one request at a time write an unfinished upload,
 * across every server of the catalog (uploads kept in the S3 store).
 * Take: DB_OK when it was free or its holder let it lapse (until <= now),
 * DB_INVALID when another holds it or the upload is finished, DB_NOTFOUND,
 * or negative. Renew (token still ours): DB_OK, DB_INVALID when it was
 * taken over, DB_NOTFOUND, or negative. Release: DB_OK whether or not the
 * token still held it, or negative.
 */
int db_upload_lease_take(struct catalog *c, const char *id, const char *token, int64_t now, int64_t until);
int db_upload_lease_renew(struct catalog *c, const char *id, const char *token, int64_t until);
int db_upload_lease_release(struct catalog *c, const char *id, const char *token);
/* Renew the lease as db_upload_lease_renew and hand out the next part
 * number (s3_last_number + 1, never given again), with the same answers. */
int db_upload_s3_number(struct catalog *c, const char *id, const char *token, int64_t until);

/*
 * Record where an S3-stored upload's confirmed bytes are (u: s3_parts,
 * s3_etags, s3_tail, s3_tail_name) and move its offset from `from` to
 * u->offset, with expiry expires_at, only while token holds the lease and
 * the offset is still `from`. DB_OK; DB_INVALID when the lease was taken
 * over, the offset moved or the upload is finished; DB_NOTFOUND; or
 * negative (nothing changed).
 */
int db_upload_s3_commit(struct catalog *c, const char *id, const char *token, int64_t from,
                        const struct db_upload *u, int64_t expires_at);
/* The S3 multipart upload of unfinished or finished upload id: DB_OK with
 * out filled ("" for an upload on local disk), DB_NOTFOUND, or negative. */
int db_upload_s3_id(struct catalog *c, const char *id, char *out, size_t outsz);
/* Whether a row knows S3 multipart upload mpu_id: DB_OK, DB_NOTFOUND, or
 * negative (for the sweep of multipart uploads nobody knows). */
int db_upload_s3_known(struct catalog *c, const char *mpu_id);

/* Unfinished uploads of everyone (for /metrics). DB_OK with *n, or a
 * negative db_rc. */
int db_upload_count_all_open(struct catalog *c, int64_t *n);

#endif
