/*
 * sigv4.h - AWS Signature Version 4 for the S3 API: the Authorization
 * header of a plain request and the query of a presigned URL.
 *
 * Our own signer, because libcurl's CURLOPT_AWS_SIGV4 (Debian 12's 7.88)
 * signs the query as written (unsorted, "?uploads" without "="), signs an
 * empty body unless told otherwise, and cannot presign. This file only
 * computes strings; it sends nothing (src/s3.c does) and reads no clock:
 * the caller passes the time, so the published examples can be checked.
 *
 * Names and values given here are raw (not percent-encoded): the signer
 * encodes them once, the S3 way (RFC 3986 unreserved characters kept, '/'
 * kept in paths), and hands back the encoded path and query to put in the
 * URL, so that what is signed is exactly what is sent.
 */
#ifndef HUBCAST_SIGV4_H
#define HUBCAST_SIGV4_H

#include <stddef.h>
#include <time.h>

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string, in hex. */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_creds {
    const char *access_key;   /* AKIA... */
    const char *secret_key;
    const char *region;       /* "us-east-1" */
    const char *service;      /* "s3" */
};

/* A query parameter or a header. A NULL or empty value signs as "name=". */
struct sigv4_pair {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method;                /* "GET", "PUT", ... */
    const char *host;                  /* the Host header: "bucket.s3.amazonaws.com", "127.0.0.1:7480" */
    const char *path;                  /* raw, starts with '/': "/bucket/a b.ts" */
    const struct sigv4_pair *query;    /* raw names and values, any order */
    size_t nquery;
    const struct sigv4_pair *headers;  /* further headers to sign (range, content-type...) */
    size_t nheaders;
    const char *payload_hash;          /* hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD */
};

/* What a request must carry once signed. Strings are owned by the struct. */
struct sigv4_signed {
    char  amz_date[17];       /* x-amz-date: "20130524T000000Z" */
    char  signature[65];      /* hex */
    char *authorization;      /* Authorization header value (sigv4_sign) */
    char *path;               /* the encoded path to put in the URL */
    char *query;              /* the encoded, sorted query (presign: with X-Amz-*), "" if none */
};

/*
 * Sign a plain request made at `now`. The signed headers are host,
 * x-amz-content-sha256 (= payload_hash), x-amz-date and those given; the
 * request must send all of them with the same values. Returns 0, or -1 if
 * an argument is missing or memory ran out; on failure *out holds nothing
 * to free.
 */
int sigv4_sign(const struct sigv4_creds *cr, const struct sigv4_request *r, time_t now,
               struct sigv4_signed *out);

/*
 * A presigned URL's query for r (method, host, path, query; headers and
 * payload_hash are ignored: only host is signed and the payload is
 * UNSIGNED-PAYLOAD), valid `expires` seconds (1..604800) from `now`.
 * out->query ends with X-Amz-Signature. Returns 0 or -1 as sigv4_sign.
 */
int sigv4_presign(const struct sigv4_creds *cr, const struct sigv4_request *r, time_t now,
                  long expires, struct sigv4_signed *out);

void sigv4_signed_free(struct sigv4_signed *s);

/*
 * Percent-encode s into a new string (RFC 3986 unreserved kept; '/' kept
 * when keep_slash). Returns NULL when memory runs out.
 */
char *sigv4_encode(const char *s, int keep_slash);

/* Hex SHA-256 of len bytes into out[65]. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
