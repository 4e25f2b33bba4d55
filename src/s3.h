/*
 * s3.h - a small client for the S3 API over libcurl, signed with our own
 * SigV4 signer (sigv4.h): objects (put, get, head, delete, delete under a
 * prefix), multipart uploads (create, part, list parts, complete, abort, list) and
 * presigned GET URLs. Enough for a media store, not a general SDK: no
 * versioning, ACLs, checksums beyond SigV4's, or retries (callers decide).
 *
 * A client holds one curl handle (kept-alive connection) and the last
 * error: use one client per thread at a time.
 */
#ifndef HUBCAST_S3_H
#define HUBCAST_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One error type for every call. s3_last_error() has the details. */
enum s3_rc {
    S3_OK = 0,
    S3_NOTFOUND,    /* 404: NoSuchKey, NoSuchUpload, NoSuchBucket */
    S3_DENIED,      /* 403: wrong key or secret (SignatureDoesNotMatch), clock skew, policy */
    S3_RANGE,       /* 416: the range is outside the object */
    S3_REFUSED,     /* another 4xx: the request was wrong (EntityTooSmall, InvalidPart...) */
    S3_SERVER,      /* 5xx: the store failed or is busy (SlowDown); may be retried */
    S3_NETWORK,     /* could not connect, TLS, timeout, connection lost */
    S3_PROTOCOL,    /* an answer we cannot read, or larger than we accept */
    S3_INVALID,     /* our input: store URL, key, sizes, missing credentials */
    S3_IO,          /* reading or writing a local file failed */
    S3_NOMEM
};

const char *s3_rc_str(enum s3_rc rc);

/* What the store said, kept for logs. */
struct s3_error {
    long http_status;     /* 0 if no answer */
    char code[64];        /* <Code>: "SignatureDoesNotMatch", "NoSuchKey"... */
    char message[256];    /* <Message>, or curl's error text */
    char request_id[96];  /* <RequestId> or x-amz-request-id */
};

struct s3_config {
    char endpoint[256];      /* "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com" */
    char region[64];         /* "us-east-1" if none given */
    char bucket[64];
    char prefix[512];        /* "" or "media/hubcast" (no leading or trailing '/') */
    int  path_style;         /* 1: http://host/bucket/key, 0: http://bucket.host/key */
    char access_key[128];
    char secret_key[128];
    long timeout;            /* seconds a request may stall (no bytes moving); 0 = 60 */
};

/*
 * Fill c from a store URL "s3://bucket[/prefix]", an endpoint URL
 * (NULL or "" = AWS: https://s3.REGION.amazonaws.com, virtual-host
 * style) and a region (NULL or "" = us-east-1). A custom endpoint uses
 * path style, unless it is given with "vhost+" before its scheme
 * ("vhost+https://minio.example.com"). Credentials are not touched.
 * Returns S3_OK or S3_INVALID with the reason in err (err may be NULL).
 */
enum s3_rc s3_config_parse(struct s3_config *c, const char *store_url, const char *endpoint,
                           const char *region, char *err, size_t errsz);

/*
 * Credentials, never from a command line: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY in the environment, else the lines
 * `s3-access-key-id = ...` and `s3-secret-access-key = ...` of
 * config_file (NULL: none; other lines are ignored). Returns S3_OK, or
 * S3_INVALID when neither gives both.
 */
enum s3_rc s3_config_credentials(struct s3_config *c, const char *config_file);

struct s3_client;

/* A client for c (copied). *out is NULL on failure (S3_NOMEM/S3_INVALID). */
enum s3_rc s3_open(const struct s3_config *c, struct s3_client **out);
void s3_close(struct s3_client **c);

/* The error of the last call that failed (cleared by each call). */
const struct s3_error *s3_last_error(const struct s3_client *c);
/* "403 SignatureDoesNotMatch: message (request id)" for logs. */
void s3_error_format(const struct s3_client *c, char *out, size_t outsz);

/* Keys are relative to the configured prefix; they must not start with '/'. */

struct s3_object {
    int64_t size;            /* Content-Length (of the whole object for head) */
    char    etag[80];        /* with its quotes, as the store gives it */
    char    content_type[128];
    char    cache_control[128];
    time_t  last_modified;   /* 0 if not given */
};

/* Optional headers of an upload; NULL fields are not sent. */
struct s3_put_opts {
    const char *content_type;
    const char *cache_control;
};

/* Create the configured bucket (tests and first setup). Exists already: S3_OK. */
enum s3_rc s3_bucket_create(struct s3_client *c);

/* PUT a buffer. The payload is signed with its SHA-256. */
enum s3_rc s3_put_buffer(struct s3_client *c, const char *key, const void *buf, size_t len,
                         const struct s3_put_opts *o);

/*
 * PUT len bytes of fd from offset off (pread: the file position is not
 * moved). The payload is hashed first (one extra read) and signed.
 */
enum s3_rc s3_put_fd(struct s3_client *c, const char *key, int fd, int64_t off, int64_t len,
                     const struct s3_put_opts *o);

/*
 * GET an object into fd (written from its current position). first/last
 * select a byte range (last = -1: to the end; first = -1: the whole
 * object). At most max_bytes are written, else S3_PROTOCOL. info may be
 * NULL. On failure some bytes may have been written to fd.
 */
enum s3_rc s3_get_fd(struct s3_client *c, const char *key, int fd, int64_t first, int64_t last,
                     int64_t max_bytes, struct s3_object *info);

/* GET a small object into a new NUL-terminated buffer (*out, free()), at most max bytes. */
enum s3_rc s3_get_buffer(struct s3_client *c, const char *key, size_t max, char **out, size_t *len);

enum s3_rc s3_head(struct s3_client *c, const char *key, struct s3_object *info);

/* DELETE; a missing object is S3_OK (as S3 answers). */
enum s3_rc s3_delete(struct s3_client *c, const char *key);

/*
 * Delete every object whose key starts with prefix (relative to the
 * configured one; "" is refused): list, then delete one by one. *deleted
 * (may be NULL) counts what went.
 */
enum s3_rc s3_delete_prefix(struct s3_client *c, const char *prefix, size_t *deleted);

/*
 * Call fn for each object whose key starts with prefix (relative; "" =
 * all of the configured prefix), in key order, with its key relative to
 * the configured prefix and its size, following the listing's pages. fn
 * returning non-zero stops the walk (S3_OK).
 */
enum s3_rc s3_list(struct s3_client *c, const char *prefix,
                   int (*fn)(void *ctx, const char *key, int64_t size), void *ctx);

/* Multipart uploads. Parts are numbered from 1; all but the last >= 5 MiB. */
struct s3_part {
    int  number;
    char etag[80];
};

enum s3_rc s3_mpu_create(struct s3_client *c, const char *key, const struct s3_put_opts *o,
                         char *upload_id, size_t idsz);
/* Upload part `number` from len bytes of fd at off; its ETag goes to etag[80]. */
enum s3_rc s3_mpu_put_part(struct s3_client *c, const char *key, const char *upload_id, int number,
                           int fd, int64_t off, int64_t len, char etag[80]);
/* The same from len bytes in memory (signed with their SHA-256). */
enum s3_rc s3_mpu_put_part_buffer(struct s3_client *c, const char *key, const char *upload_id, int number,
                                  const void *buf, size_t len, char etag[80]);
enum s3_rc s3_mpu_complete(struct s3_client *c, const char *key, const char *upload_id,
                           const struct s3_part *parts, size_t nparts);
/* One part already uploaded, as ListParts gives it. */
struct s3_part_info {
    int     number;
    char    etag[80];
    int64_t size;
};

/*
 * Call fn for each part of an unfinished upload, in order, following the
 * pages (what a server taking an upload over needs to resume it). fn
 * returning non-zero stops the walk (S3_OK). An unknown upload: S3_NOTFOUND.
 */
enum s3_rc s3_mpu_parts(struct s3_client *c, const char *key, const char *upload_id,
                        int (*fn)(void *ctx, const struct s3_part_info *p), void *ctx);

/* Abort; an upload already gone is S3_NOTFOUND. */
enum s3_rc s3_mpu_abort(struct s3_client *c, const char *key, const char *upload_id);

/* One unfinished multipart upload, as listed. */
struct s3_upload {
    char   key[1024];        /* relative to the configured prefix */
    char   upload_id[256];
    time_t initiated;
};

/*
 * Call fn for each unfinished multipart upload under prefix (relative; ""
 * = all of the configured prefix), following the listing's pages. fn
 * returning non-zero stops the walk (S3_OK). For expiry: abort those
 * initiated before a cut-off.
 */
enum s3_rc s3_mpu_list(struct s3_client *c, const char *prefix,
                       int (*fn)(void *ctx, const struct s3_upload *u), void *ctx);

/*
 * A presigned GET URL for key, valid `expires` seconds from `now` (pass
 * hc_now()); written to url (S3_INVALID if it does not fit).
 */
enum s3_rc s3_presign_get(struct s3_client *c, const char *key, time_t now, long expires,
                          char *url, size_t urlsz);

#endif
