/*
 * sigv4.c - AWS Signature Version 4 (see sigv4.h): canonical request,
 * string to sign, signing key, Authorization header and presigned query.
 * HMAC-SHA256 and SHA-256 come from libsodium.
 *
 * Reference: "Authenticating Requests (AWS Signature Version 4)" in the
 * Amazon S3 API reference; tests/unit/test_sigv4.c checks its examples.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sigv4.h"

/* A growing string; on allocation failure it sets failed and stops. */
struct sbuf {
    char  *s;
    size_t len, cap;
    int    failed;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        if (!(p = realloc(b->s, cap))) {
            b->failed = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_enc(struct sbuf *b, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[3];

        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            sb_addn(b, (const char *)&c, 1);
            continue;
        }
        e[0] = '%';
        e[1] = hex[c >> 4];
        e[2] = hex[c & 15];
        sb_addn(b, e, 3);
    }
}

/* Take the string out of b (NULL if it failed); b is emptied. */
static char *sb_take(struct sbuf *b)
{
    char *s = b->failed ? NULL : b->s;

    if (b->failed)
        free(b->s);
    else if (!s)
        s = calloc(1, 1);
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return s;
}

char *sigv4_encode(const char *s, int keep_slash)
{
    struct sbuf b = { 0 };

    sb_enc(&b, s, keep_slash);
    return sb_take(&b);
}

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, data, len);
    to_hex(h, sizeof(h), out);
}

static void hmac(unsigned char out[32], const unsigned char *key, size_t keylen, const char *msg)
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int signing_key(const struct sigv4_creds *cr, const char *date8, unsigned char key[32])
{
    size_t n = strlen(cr->secret_key) + 5;
    unsigned char k[32];
    char *secret = malloc(n);

    if (!secret)
        return -1;
    snprintf(secret, n, "AWS4%s", cr->secret_key);
    hmac(k, (const unsigned char *)secret, n - 1, date8);
    sodium_memzero(secret, n);
    free(secret);
    hmac(k, k, 32, cr->region);
    hmac(k, k, 32, cr->service);
    hmac(key, k, 32, "aws4_request");
    sodium_memzero(k, sizeof(k));
    return 0;
}

/* An encoded pair, for sorting the query. */
struct enc_pair {
    char *name, *value;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct enc_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* The canonical query: each name and value encoded, sorted by name then value. */
static char *canonical_query(const struct sigv4_pair *q, size_t n)
{
    struct enc_pair *p = calloc(n ? n : 1, sizeof(*p));
    struct sbuf b = { 0 };
    size_t i;

    if (!p)
        return NULL;
    for (i = 0; i < n; i++) {
        p[i].name = sigv4_encode(q[i].name ? q[i].name : "", 0);
        p[i].value = sigv4_encode(q[i].value ? q[i].value : "", 0);
        if (!p[i].name || !p[i].value)
            b.failed = 1;
    }
    if (!b.failed)
        qsort(p, n, sizeof(*p), cmp_pair);
    for (i = 0; i < n; i++) {
        if (!b.failed) {
            if (i)
                sb_add(&b, "&");
            sb_add(&b, p[i].name);
            sb_add(&b, "=");
            sb_add(&b, p[i].value);
        }
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
    return sb_take(&b);
}

/* A header to sign: lower-case name, trimmed value with runs of spaces folded. */
struct canon_header {
    char *name, *value;
};

static int cmp_header(const void *a, const void *b)
{
    return strcmp(((const struct canon_header *)a)->name, ((const struct canon_header *)b)->name);
}

static char *fold_value(const char *v)
{
    struct sbuf b = { 0 };
    int space = 0;

    while (*v == ' ' || *v == '\t')
        v++;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = 1;
            continue;
        }
        if (space)
            sb_add(&b, " ");
        space = 0;
        sb_addn(&b, v, 1);
    }
    return sb_take(&b);
}

/*
 * Append the canonical headers and a blank line to b, and the signed
 * header list to sh. hv holds n headers already lower-cased.
 */
static void canonical_headers(struct sbuf *b, struct sbuf *sh, struct canon_header *hv, size_t n)
{
    qsort(hv, n, sizeof(*hv), cmp_header);
    for (size_t i = 0; i < n; i++) {
        sb_add(b, hv[i].name);
        sb_add(b, ":");
        sb_add(b, hv[i].value);
        sb_add(b, "\n");
        if (i)
            sb_add(sh, ";");
        sb_add(sh, hv[i].name);
    }
    sb_add(b, "\n");
    sb_add(b, sh->s ? sh->s : "");
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);

    for (char *p = d; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

/*
 * The shared core: canonical request -> string to sign -> signature.
 * extra_query (presign) is added to r's query. On success fills out's
 * amz_date, signature, path, query and *signed_headers (caller frees).
 */
static int sign_core(const struct sigv4_creds *cr, const struct sigv4_request *r, time_t now,
                     const struct sigv4_pair *extra_query, size_t nextra, int with_amz_headers,
                     struct sigv4_signed *out, char **signed_headers)
{
    struct sbuf creq = { 0 }, sh = { 0 }, sts = { 0 };
    size_t nq = r->nquery + nextra, nh = 0, i;
    struct sigv4_pair *q = calloc(nq ? nq : 1, sizeof(*q));
    struct canon_header *hv = calloc(r->nheaders + 3, sizeof(*hv));
    unsigned char key[32], sig[32];
    char date8[9], hash[65];
    const char *payload = with_amz_headers ? r->payload_hash : SIGV4_UNSIGNED_PAYLOAD;
    int rc = -1;
    struct tm tm;

    memset(out, 0, sizeof(*out));
    *signed_headers = NULL;
    if (!q || !hv || !payload || !gmtime_r(&now, &tm))
        goto end;
    strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm);
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';

    for (i = 0; i < r->nquery; i++)
        q[i] = r->query[i];
    for (i = 0; i < nextra; i++)
        q[r->nquery + i] = extra_query[i];
    out->path = sigv4_encode(r->path, 1);
    out->query = canonical_query(q, nq);
    if (!out->path || !out->query)
        goto end;

    hv[nh].name = strdup("host");
    hv[nh++].value = fold_value(r->host);
    if (with_amz_headers) {
        hv[nh].name = strdup("x-amz-content-sha256");
        hv[nh++].value = strdup(payload);
        hv[nh].name = strdup("x-amz-date");
        hv[nh++].value = strdup(out->amz_date);
        for (i = 0; i < r->nheaders; i++) {
            hv[nh].name = lower_dup(r->headers[i].name);
            hv[nh++].value = fold_value(r->headers[i].value ? r->headers[i].value : "");
        }
    }
    for (i = 0; i < nh; i++)
        if (!hv[i].name || !hv[i].value)
            goto end;

    sb_add(&creq, r->method);
    sb_add(&creq, "\n");
    sb_add(&creq, out->path);
    sb_add(&creq, "\n");
    sb_add(&creq, out->query);
    sb_add(&creq, "\n");
    canonical_headers(&creq, &sh, hv, nh);
    sb_add(&creq, "\n");
    sb_add(&creq, payload);
    if (creq.failed || sh.failed)
        goto end;

    sigv4_sha256_hex(creq.s, creq.len, hash);
    sb_add(&sts, "AWS4-HMAC-SHA256\n");
    sb_add(&sts, out->amz_date);
    sb_add(&sts, "\n");
    sb_add(&sts, date8);
    sb_add(&sts, "/");
    sb_add(&sts, cr->region);
    sb_add(&sts, "/");
    sb_add(&sts, cr->service);
    sb_add(&sts, "/aws4_request\n");
    sb_add(&sts, hash);
    if (sts.failed || signing_key(cr, date8, key) < 0)
        goto end;
    hmac(sig, key, sizeof(key), sts.s);
    sodium_memzero(key, sizeof(key));
    to_hex(sig, sizeof(sig), out->signature);
    *signed_headers = sb_take(&sh);
    rc = *signed_headers ? 0 : -1;
end:
    for (i = 0; hv && i < nh; i++) {
        free(hv[i].name);
        free(hv[i].value);
    }
    free(hv);
    free(q);
    free(creq.s);
    free(sh.s);
    free(sts.s);
    if (rc < 0)
        sigv4_signed_free(out);
    return rc;
}

static int creds_ok(const struct sigv4_creds *cr, const struct sigv4_request *r)
{
    return cr && cr->access_key && cr->secret_key && cr->region && cr->service &&
           r && r->method && r->host && r->path && r->path[0] == '/' &&
           (r->nquery == 0 || r->query) && (r->nheaders == 0 || r->headers);
}

int sigv4_sign(const struct sigv4_creds *cr, const struct sigv4_request *r, time_t now,
               struct sigv4_signed *out)
{
    struct sbuf a = { 0 };
    char *sh;
    char date8[9];

    memset(out, 0, sizeof(*out));
    if (!creds_ok(cr, r) || !r->payload_hash)
        return -1;
    if (sign_core(cr, r, now, NULL, 0, 1, out, &sh) < 0)
        return -1;
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';
    sb_add(&a, "AWS4-HMAC-SHA256 Credential=");
    sb_add(&a, cr->access_key);
    sb_add(&a, "/");
    sb_add(&a, date8);
    sb_add(&a, "/");
    sb_add(&a, cr->region);
    sb_add(&a, "/");
    sb_add(&a, cr->service);
    sb_add(&a, "/aws4_request,SignedHeaders=");
    sb_add(&a, sh);
    sb_add(&a, ",Signature=");
    sb_add(&a, out->signature);
    free(sh);
    if (!(out->authorization = sb_take(&a))) {
        sigv4_signed_free(out);
        return -1;
    }
    return 0;
}

int sigv4_presign(const struct sigv4_creds *cr, const struct sigv4_request *r, time_t now,
                  long expires, struct sigv4_signed *out)
{
    char date8[9], credential[512], expires_s[24], amz_date[17];
    struct sigv4_pair extra[5];
    struct sbuf q = { 0 };
    char *sh;
    struct tm tm;

    memset(out, 0, sizeof(*out));
    if (!creds_ok(cr, r) || expires < 1 || expires > 604800 || !gmtime_r(&now, &tm))
        return -1;
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    if ((size_t)snprintf(credential, sizeof(credential), "%s/%s/%s/%s/aws4_request", cr->access_key,
                         date8, cr->region, cr->service) >= sizeof(credential))
        return -1;
    snprintf(expires_s, sizeof(expires_s), "%ld", expires);
    extra[0] = (struct sigv4_pair){ "X-Amz-Algorithm", "AWS4-HMAC-SHA256" };
    extra[1] = (struct sigv4_pair){ "X-Amz-Credential", credential };
    extra[2] = (struct sigv4_pair){ "X-Amz-Date", amz_date };
    extra[3] = (struct sigv4_pair){ "X-Amz-Expires", expires_s };
    extra[4] = (struct sigv4_pair){ "X-Amz-SignedHeaders", "host" };
    if (sign_core(cr, r, now, extra, 5, 0, out, &sh) < 0)
        return -1;
    free(sh);
    sb_add(&q, out->query);
    sb_add(&q, "&X-Amz-Signature=");
    sb_add(&q, out->signature);
    free(out->query);
    if (!(out->query = sb_take(&q))) {
        sigv4_signed_free(out);
        return -1;
    }
    return 0;
}

void sigv4_signed_free(struct sigv4_signed *s)
{
    free(s->authorization);
    free(s->path);
    free(s->query);
    s->authorization = s->path = s->query = NULL;
}
