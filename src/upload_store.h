/*
 * upload_store.h - tus uploads in progress kept in the S3 media store
 * (--media-store s3://...), so that the PATCH requests of one upload may
 * land on different servers and nothing of it touches a server's disk.
 *
 * As tusd's S3 store does: an upload is an S3 multipart upload of the key
 * uploads/<id>, made with it. A request's bytes fill an 8 MiB buffer in
 * memory, stored as a part whenever it is full; what is left at the end
 * of a request is a part when it has at least 5 MiB, else the upload's
 * tail, an object of its own (uploads/<id>.tail.<name>, never rewritten:
 * each tail has a new name) that the next request takes back first. The
 * last part, at completion, may be small. The catalog row says where
 * every confirmed byte is (parts with their ETags, tail); it moves only
 * after the bytes are stored, and only while the request holds the
 * upload's lease, which one request at a time holds across servers
 * (db_upload_lease_take) and which lapses within seconds when its server
 * dies. The one-request upload streams its parts the same way, with no
 * row until it completes. Not for local-disk mode (uploads.c).
 */
#ifndef HUBCAST_UPLOAD_STORE_H
#define HUBCAST_UPLOAD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct catalog;
struct conf;
struct db_upload;
struct s3_client;

#define USTORE_LEASE_SECONDS 10  /* a lease not renewed for this long may be taken over */
#define USTORE_PART_MIN (5 * 1024 * 1024)   /* S3's smallest part but the last */
#define USTORE_BUFFER   (8 * 1024 * 1024)   /* a full buffer is stored as a part */

/* One error type for this module. */
enum ustore_rc {
    USTORE_OK = 0,
    USTORE_LOST,        /* the lease was taken over, or the offset moved: 409 */
    USTORE_GONE,        /* the upload's row is gone (deleted, expired): 404 */
    USTORE_CATALOG,     /* the catalog failed (db_rc kept): 503 */
    USTORE_STORE,       /* the S3 store failed (logged): 503 */
    USTORE_TOO_LARGE,   /* more parts than S3 allows: 413 */
    USTORE_BUSY         /* too many requests hold a buffer already: 503 */
};

/* 1 when uploads go to the S3 store, 0 when they stay on local disk, as
 * store_init decided when `serve` started (a misconfigured store stops it
 * there). */
int ustore_enabled(const struct conf *c);

/* An S3 client for this thread's while, from the media store's pool
 * (store_client; keeps connections alive). NULL when the store cannot be
 * opened (logged). Give it back. */
struct s3_client *ustore_client(const struct conf *c);
void ustore_client_give(struct s3_client **cli);

/* The store key of upload id's bytes: "uploads/<id>" (what workers read). */
void ustore_key(const char *id, char *out, size_t outsz);

/* Start the multipart upload of a new upload id: S3_OK (enum s3_rc) with
 * mpu_id filled, or the store's failure (logged). */
int ustore_create(struct s3_client *cli, const char *id, char *mpu_id, size_t mpu_idsz);

/* Everything of an unfinished upload in the store goes: its multipart
 * upload is aborted (one already gone is fine), its object (completed but
 * never an update's) and its tails deleted.
 * Failures are logged (the sweep aborts what stays). */
void ustore_discard(struct s3_client *cli, const char *id, const char *mpu_id);

/* A finished upload's tails go (its object uploads/<id> stays). Logged. */
void ustore_drop_tails(struct s3_client *cli, const char *id);

/*
 * Abort the multipart uploads under uploads/ started before now - age
 * that no catalog row knows (a server that died between making one and
 * recording it, an abort that failed), and delete the tails
 * (uploads/<id>.tail.<name>) of uploads that have no row any more (a
 * deletion that failed). Returns how many went, or -1 when the store or
 * catalog could not be read (logged).
 */
int ustore_sweep(struct s3_client *cli, struct catalog *cat, time_t now, int64_t age);

/* A lease token: random, URL-safe, 22 characters and a NUL. */
void ustore_token(char out[32]);

/* ---- one request writing an upload (it holds the lease) ---- */

struct ustore_w;

/*
 * Begin writing upload row (read by db_upload_get while token holds its
 * lease): the tail comes back into the buffer. token NULL: an upload with
 * no row yet (the one-request upload; row has its id and s3_upload_id),
 * whose parts are recorded nowhere until it completes. defer = 1 keeps every
 * change out of the catalog until ustore_settle (a checksum covers the
 * whole request). The lease stays the caller's to release (after
 * ustore_end); this only pushes it on. USTORE_OK with *out, or an error
 * (nothing is held then).
 */
enum ustore_rc ustore_begin(const struct conf *conf, struct catalog *cat, const struct db_upload *row,
                            const char *token, int defer, struct ustore_w **out);

/* Append bytes; a full buffer is stored as a part (and, unless deferred,
 * recorded). On failure the bytes of this request not yet recorded are
 * lost; the catalog still tells the truth. */
enum ustore_rc ustore_write(struct ustore_w *w, const void *data, size_t len);

/*
 * Store what the buffer holds and record it: final = 1 (the upload is
 * complete) makes it the last part whatever its size, else it is a part
 * when it has at least 5 MiB, else the new tail. The offset recorded is
 * then ustore_offset().
 */
enum ustore_rc ustore_settle(struct ustore_w *w, int final, int64_t expires_at);

/* Forget what this request sent that is not recorded yet (a refused
 * request): the offset goes back to the recorded one. */
void ustore_forget(struct ustore_w *w);

/* Bytes of the upload now: recorded ones plus those buffered. */
int64_t ustore_offset(const struct ustore_w *w);
/* Bytes recorded in the catalog. */
int64_t ustore_recorded(const struct ustore_w *w);

/* The first bytes of the upload, when they are still in the buffer (no
 * part yet): how many were copied to head (at most max). */
size_t ustore_head(const struct ustore_w *w, unsigned char *head, size_t max);

/* Complete the multipart upload with the recorded parts (already complete
 * and as long as the recorded offset: fine too). USTORE_OK or
 * USTORE_STORE (logged). */
enum ustore_rc ustore_complete(struct ustore_w *w);

/* The catalog's failure behind USTORE_CATALOG (an enum db_rc). */
int ustore_db_rc(const struct ustore_w *w);

/* End: the buffer and the client go (not the lease). *w = NULL. */
void ustore_end(struct ustore_w **w);

#endif
