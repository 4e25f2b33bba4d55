/*
 * s3.c - the S3 client (see s3.h): one signed request at a time over a
 * kept-alive curl handle, its answer either streamed to a file or kept in
 * a capped buffer, errors read from the store's XML into struct s3_error.
 *
 * The S3 answers we read are small XML documents of a fixed shape; we
 * pick the few elements we need by name instead of linking an XML parser.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>

#include "s3.h"
#include "sigv4.h"
#include "util.h"

#define S3_ERROR_BODY_MAX  (64 * 1024)        /* an error document */
#define S3_XML_BODY_MAX    (8 * 1024 * 1024)  /* a listing page of 1000 keys */
#define S3_MAX_KEY         900                /* ours; S3 allows 1024 with the prefix */
#define S3_MAX_HEADERS     6

struct s3_client {
    struct s3_config cfg;
    CURL            *curl;
    char             scheme[8];          /* "http" or "https" */
    char             authority[256];     /* endpoint host[:port], default port dropped */
    struct s3_error  err;
};

/* One request: what to send and how to take the answer. */
struct s3_req {
    const char              *method;
    const char              *full_key;   /* NULL: the bucket itself */
    const struct sigv4_pair *query;
    size_t                   nquery;
    struct sigv4_pair        headers[S3_MAX_HEADERS]; /* signed and sent */
    size_t                   nheaders;
    const void              *body;       /* in memory, or */
    int                      in_fd;      /* from a file when >= 0 */
    int64_t                  in_off, in_len;
    char                     payload_hash[65];
    int                      out_fd;     /* a 2xx body goes here when >= 0 */
    int64_t                  out_max;
    size_t                   mem_max;    /* cap on a body kept in memory */
    int                      head;
};

/* The answer, filled by the curl callbacks. */
struct s3_resp {
    char            *body;       /* NUL-terminated, when kept in memory */
    size_t           len, cap;
    int64_t          written;    /* bytes sent to out_fd */
    int              too_big, io_error;
    struct s3_object obj;
    char             request_id[96];
    CURL            *curl;
    const struct s3_req *req;
    int64_t          in_pos;     /* upload progress */
};

const char *s3_rc_str(enum s3_rc rc)
{
    switch (rc) {
    case S3_OK:       return "ok";
    case S3_NOTFOUND: return "not found";
    case S3_DENIED:   return "access denied";
    case S3_RANGE:    return "range not satisfiable";
    case S3_REFUSED:  return "request refused";
    case S3_SERVER:   return "store failure";
    case S3_NETWORK:  return "network failure";
    case S3_PROTOCOL: return "unreadable or oversized answer";
    case S3_INVALID:  return "invalid argument";
    case S3_IO:       return "local input/output error";
    case S3_NOMEM:    return "out of memory";
    }
    return "unknown";
}

/* ---- configuration ---- */

static int bucket_ok(const char *b, size_t n)
{
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-' || b[i] == '.'))
            return 0;
    return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

static void seterr(char *err, size_t errsz, const char *msg)
{
    if (err && errsz)
        hc_strlcpy(err, msg, errsz);
}

enum s3_rc s3_config_parse(struct s3_config *c, const char *store_url, const char *endpoint,
                           const char *region, char *err, size_t errsz)
{
    const char *b, *slash, *auth;
    size_t n;

    memset(c, 0, sizeof(*c));
    if (!store_url || strncmp(store_url, "s3://", 5)) {
        seterr(err, errsz, "the media store must look like s3://bucket/prefix");
        return S3_INVALID;
    }
    b = store_url + 5;
    slash = strchr(b, '/');
    n = slash ? (size_t)(slash - b) : strlen(b);
    if (!bucket_ok(b, n)) {
        seterr(err, errsz, "the bucket name must be 3 to 63 lower-case letters, digits, '.' or '-'");
        return S3_INVALID;
    }
    memcpy(c->bucket, b, n);
    if (slash) {
        const char *p = slash;
        size_t plen;

        while (*p == '/')
            p++;
        plen = strlen(p);
        while (plen && p[plen - 1] == '/')
            plen--;
        if (plen >= sizeof(c->prefix) || hc_has_crlf(p)) {
            seterr(err, errsz, "the prefix is too long");
            return S3_INVALID;
        }
        memcpy(c->prefix, p, plen);
    }
    hc_strlcpy(c->region, region && *region ? region : "us-east-1", sizeof(c->region));
    if (!endpoint || !*endpoint) {
        snprintf(c->endpoint, sizeof(c->endpoint), "https://s3.%s.amazonaws.com", c->region);
        c->path_style = 0;
    } else {
        const char *e = endpoint;

        c->path_style = 1;
        if (!strncmp(e, "vhost+", 6)) {
            c->path_style = 0;
            e += 6;
        }
        if ((strncmp(e, "http://", 7) && strncmp(e, "https://", 8)) ||
            hc_strlcpy(c->endpoint, e, sizeof(c->endpoint)) >= sizeof(c->endpoint)) {
            seterr(err, errsz, "the S3 endpoint must be an http:// or https:// URL");
            return S3_INVALID;
        }
        n = strlen(c->endpoint);
        while (n && c->endpoint[n - 1] == '/')
            c->endpoint[--n] = '\0';
        auth = strstr(c->endpoint, "://");
        if (!auth || !auth[3] || strchr(auth + 3, '/') || strchr(auth + 3, '?') ||
            strchr(auth + 3, '@') || hc_has_crlf(c->endpoint)) {
            seterr(err, errsz, "the S3 endpoint must be scheme://host[:port], without a path");
            return S3_INVALID;
        }
    }
    return S3_OK;
}

/* Read `name = value` from a config file; other lines are not ours. */
static int file_value(const char *path, const char *name, char *out, size_t outsz)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    size_t nl = strlen(name);
    int found = 0;

    if (!f)
        return 0;
    while (!found && fgets(line, sizeof(line), f)) {
        char *p = line, *e;

        while (isspace((unsigned char)*p))
            p++;
        if (strncmp(p, name, nl))
            continue;
        p += nl;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p++ != '=')
            continue;
        while (*p == ' ' || *p == '\t')
            p++;
        e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1]))
            e--;
        *e = '\0';
        found = hc_strlcpy(out, p, outsz) < outsz && *p;
    }
    sodium_memzero(line, sizeof(line));
    fclose(f);
    return found;
}

enum s3_rc s3_config_credentials(struct s3_config *c, const char *config_file)
{
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");

    if (ak && *ak && sk && *sk) {
        if (hc_strlcpy(c->access_key, ak, sizeof(c->access_key)) < sizeof(c->access_key) &&
            hc_strlcpy(c->secret_key, sk, sizeof(c->secret_key)) < sizeof(c->secret_key))
            return S3_OK;
    } else if (config_file && file_value(config_file, "s3-access-key-id", c->access_key,
                                         sizeof(c->access_key)) &&
               file_value(config_file, "s3-secret-access-key", c->secret_key, sizeof(c->secret_key))) {
        return S3_OK;
    }
    sodium_memzero(c->access_key, sizeof(c->access_key));
    sodium_memzero(c->secret_key, sizeof(c->secret_key));
    return S3_INVALID;
}

/* ---- client ---- */

enum s3_rc s3_open(const struct s3_config *cfg, struct s3_client **out)
{
    struct s3_client *c;
    const char *auth;
    char *colon;

    *out = NULL;
    if (!cfg->bucket[0] || !cfg->endpoint[0] || !cfg->access_key[0] || !cfg->secret_key[0])
        return S3_INVALID;
    if (!(c = calloc(1, sizeof(*c))))
        return S3_NOMEM;
    c->cfg = *cfg;
    if (!c->cfg.timeout)
        c->cfg.timeout = 60;
    auth = strstr(c->cfg.endpoint, "://");
    if (!auth) {
        free(c);
        return S3_INVALID;
    }
    snprintf(c->scheme, sizeof(c->scheme), "%.*s", (int)(auth - c->cfg.endpoint), c->cfg.endpoint);
    hc_strlcpy(c->authority, auth + 3, sizeof(c->authority));
    /* curl sends Host without the port when it is the scheme's own. */
    if ((colon = strrchr(c->authority, ':')) && !strchr(colon, ']') &&
        ((!strcmp(c->scheme, "http") && !strcmp(colon, ":80")) ||
         (!strcmp(c->scheme, "https") && !strcmp(colon, ":443"))))
        *colon = '\0';
    if (!(c->curl = curl_easy_init())) {
        free(c);
        return S3_NOMEM;
    }
    *out = c;
    return S3_OK;
}

void s3_close(struct s3_client **cp)
{
    struct s3_client *c = *cp;

    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    sodium_memzero(c->cfg.secret_key, sizeof(c->cfg.secret_key));
    free(c);
    *cp = NULL;
}

const struct s3_error *s3_last_error(const struct s3_client *c)
{
    return &c->err;
}

void s3_error_format(const struct s3_client *c, char *out, size_t outsz)
{
    const struct s3_error *e = &c->err;

    if (e->http_status)
        snprintf(out, outsz, "%ld %s%s%s%s%s%s", e->http_status, e->code[0] ? e->code : "(no code)",
                 e->message[0] ? ": " : "", e->message, e->request_id[0] ? " (request " : "",
                 e->request_id, e->request_id[0] ? ")" : "");
    else
        snprintf(out, outsz, "%s", e->message[0] ? e->message : "no answer");
}

/* ---- the XML we read ---- */

/* Find <tag>...</tag> in [s, end); its text in [*vs, *ve). Returns 1 if found. */
static int xml_find(const char *s, const char *end, const char *tag, const char **vs, const char **ve)
{
    char open[64], close[66];
    size_t no, nc;
    const char *p;

    no = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
    nc = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
    for (p = s; p + no <= end; p++) {
        if (memcmp(p, open, no))
            continue;
        for (const char *q = p + no; q + nc <= end; q++)
            if (!memcmp(q, close, nc)) {
                *vs = p + no;
                *ve = q;
                return 1;
            }
        return 0;
    }
    return 0;
}

/* Copy XML text, undoing the five entities; 0, or -1 if it does not fit. */
static int xml_copy(const char *vs, const char *ve, char *out, size_t outsz)
{
    static const struct { const char *ent; char c; } ents[] = {
        { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
    };
    size_t n = 0;

    while (vs < ve) {
        char ch = *vs++;

        if (ch == '&')
            for (size_t i = 0; i < HC_ARRAY_LEN(ents); i++) {
                size_t l = strlen(ents[i].ent);

                if ((size_t)(ve - vs + 1) >= l && !memcmp(vs - 1, ents[i].ent, l)) {
                    ch = ents[i].c;
                    vs += l - 1;
                    break;
                }
            }
        if (n + 1 >= outsz)
            return -1;
        out[n++] = ch;
    }
    out[n] = '\0';
    return 0;
}

static int xml_get(const char *s, const char *end, const char *tag, char *out, size_t outsz)
{
    const char *vs, *ve;

    if (!xml_find(s, end, tag, &vs, &ve))
        return -1;
    return xml_copy(vs, ve, out, outsz);
}

/* ---- one request ---- */

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct s3_resp *r = ud;
    size_t len = size * n;
    char line[512], *v, *e;

    if (len >= sizeof(line))
        return len;
    memcpy(line, buf, len);
    line[len] = '\0';
    if (!strncmp(line, "HTTP/", 5)) {   /* a new answer (after a 100): start over */
        memset(&r->obj, 0, sizeof(r->obj));
        r->request_id[0] = '\0';
        return len;
    }
    if (!(v = strchr(line, ':')))
        return len;
    *v++ = '\0';
    while (*v == ' ' || *v == '\t')
        v++;
    e = v + strlen(v);
    while (e > v && isspace((unsigned char)e[-1]))
        *--e = '\0';
    if (!strcasecmp(line, "ETag"))
        hc_strlcpy(r->obj.etag, v, sizeof(r->obj.etag));
    else if (!strcasecmp(line, "Content-Type"))
        hc_strlcpy(r->obj.content_type, v, sizeof(r->obj.content_type));
    else if (!strcasecmp(line, "Cache-Control"))
        hc_strlcpy(r->obj.cache_control, v, sizeof(r->obj.cache_control));
    else if (!strcasecmp(line, "Content-Length"))
        hc_parse_i64(v, 0, INT64_MAX, &r->obj.size);
    else if (!strcasecmp(line, "x-amz-request-id"))
        hc_strlcpy(r->request_id, v, sizeof(r->request_id));
    else if (!strcasecmp(line, "Last-Modified"))
        r->obj.last_modified = curl_getdate(v, NULL) > 0 ? curl_getdate(v, NULL) : 0;
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct s3_resp *r = ud;
    size_t len = size * n;
    long status = 0;

    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
    if (r->req->out_fd >= 0 && status >= 200 && status < 300) {
        size_t done = 0;

        if (r->written + (int64_t)len > r->req->out_max) {
            r->too_big = 1;
            return 0;
        }
        while (done < len) {
            ssize_t w = write(r->req->out_fd, buf + done, len - done);

            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                r->io_error = 1;
                return 0;
            }
            done += (size_t)w;
        }
        r->written += (int64_t)len;
        return len;
    }
    if (r->len + len > (status >= 200 && status < 300 ? r->req->mem_max : S3_ERROR_BODY_MAX)) {
        r->too_big = 1;
        return 0;
    }
    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        char *p;

        while (cap < r->len + len + 1)
            cap *= 2;
        if (!(p = realloc(r->body, cap)))
            return 0;
        r->body = p;
        r->cap = cap;
    }
    memcpy(r->body + r->len, buf, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    struct s3_resp *r = ud;
    const struct s3_req *q = r->req;
    size_t want = size * n;
    int64_t left = q->in_len - r->in_pos;

    if ((int64_t)want > left)
        want = (size_t)left;
    if (!want)
        return 0;
    if (q->in_fd >= 0) {
        ssize_t got;

        do
            got = pread(q->in_fd, buf, want, q->in_off + r->in_pos);
        while (got < 0 && errno == EINTR);
        if (got <= 0) {
            r->io_error = 1;
            return CURL_READFUNC_ABORT;
        }
        want = (size_t)got;
    } else {
        memcpy(buf, (const char *)q->body + r->in_pos, want);
    }
    r->in_pos += (int64_t)want;
    return want;
}

/* "prefix/key" (or "key") into out. */
static enum s3_rc full_key(const struct s3_client *c, const char *key, char *out, size_t outsz)
{
    size_t n = key ? strlen(key) : 0;

    if (!n || n > S3_MAX_KEY || key[0] == '/' || hc_has_crlf(key))
        return S3_INVALID;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
            return S3_INVALID;
    if ((size_t)snprintf(out, outsz, "%s%s%s", c->cfg.prefix, c->cfg.prefix[0] ? "/" : "", key) >= outsz)
        return S3_INVALID;
    return S3_OK;
}

/* Host and raw path of a request for full_key (NULL: the bucket). */
static void place(const struct s3_client *c, const char *fkey, char *host, size_t hostsz,
                  char *path, size_t pathsz)
{
    if (c->cfg.path_style) {
        hc_strlcpy(host, c->authority, hostsz);
        snprintf(path, pathsz, "/%s%s%s", c->cfg.bucket, fkey ? "/" : "", fkey ? fkey : "");
    } else {
        snprintf(host, hostsz, "%s.%s", c->cfg.bucket, c->authority);
        snprintf(path, pathsz, "/%s", fkey ? fkey : "");
    }
}

static void fail(struct s3_client *c, long status, const char *code, const char *msg)
{
    c->err.http_status = status;
    hc_strlcpy(c->err.code, code ? code : "", sizeof(c->err.code));
    hc_strlcpy(c->err.message, msg ? msg : "", sizeof(c->err.message));
}

static enum s3_rc status_rc(long status)
{
    if (status == 404)
        return S3_NOTFOUND;
    if (status == 403)
        return S3_DENIED;
    if (status == 416)
        return S3_RANGE;
    if (status >= 500)
        return S3_SERVER;
    return S3_REFUSED;
}

/* Append one header line to *hl; -1 (list unchanged) if it fails. */
static int add_line(struct curl_slist **hl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int add_line(struct curl_slist **hl, const char *fmt, ...)
{
    char line[2048];
    struct curl_slist *t;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line) || !(t = curl_slist_append(*hl, line)))
        return -1;
    *hl = t;
    return 0;
}

/*
 * Sign and send q. On S3_OK, resp holds the answer (body in memory unless
 * streamed to out_fd); the caller frees resp->body in every case.
 */
static enum s3_rc perform(struct s3_client *c, const struct s3_req *q, struct s3_resp *resp)
{
    struct sigv4_creds cr = { c->cfg.access_key, c->cfg.secret_key, c->cfg.region, "s3" };
    struct sigv4_request sr;
    struct sigv4_signed sg = { 0 };
    struct curl_slist *hl = NULL;
    char host[384], path[1400], errbuf[CURL_ERROR_SIZE] = "";
    char *url = NULL;
    size_t urllen;
    int has_type = 0;
    CURLcode cc;
    long status = 0;
    enum s3_rc rc = S3_NOMEM;

    memset(&c->err, 0, sizeof(c->err));
    memset(resp, 0, sizeof(*resp));
    resp->curl = c->curl;
    resp->req = q;
    place(c, q->full_key, host, sizeof(host), path, sizeof(path));
    sr = (struct sigv4_request){ q->method, host, path, q->query, q->nquery, q->headers, q->nheaders,
                                 q->payload_hash };
    /*
     * The store compares x-amz-date with its own clock (15 minutes of
     * slack): sign with the real time, not hc_now(), which tests may move.
     */
    if (sigv4_sign(&cr, &sr, time(NULL), &sg) < 0) {
        fail(c, 0, "", "cannot sign the request");
        return S3_NOMEM;
    }
    urllen = strlen(c->scheme) + strlen(host) + strlen(sg.path) + strlen(sg.query) + 8;
    if (!(url = malloc(urllen)))
        goto end;
    snprintf(url, urllen, "%s://%s%s%s%s", c->scheme, host, sg.path, sg.query[0] ? "?" : "", sg.query);

    if (add_line(&hl, "Authorization: %s", sg.authorization) < 0 ||
        add_line(&hl, "x-amz-date: %s", sg.amz_date) < 0 ||
        add_line(&hl, "x-amz-content-sha256: %s", q->payload_hash) < 0 ||
        add_line(&hl, "Expect:") < 0 || add_line(&hl, "Accept:") < 0)
        goto end;
    for (size_t i = 0; i < q->nheaders; i++) {
        if (add_line(&hl, "%s: %s", q->headers[i].name, q->headers[i].value) < 0)
            goto end;
        has_type |= !strcasecmp(q->headers[i].name, "Content-Type");
    }
    /* Without a type of ours, curl would send its form type with a POST. */
    if (!has_type && add_line(&hl, "Content-Type:") < 0)
        goto end;

    curl_easy_reset(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, c->cfg.timeout);
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, resp);
    if (q->head) {
        curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(q->method, "PUT")) {
        curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c->curl, CURLOPT_READDATA, resp);
        curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->in_len);
    } else if (!strcmp(q->method, "POST")) {
        curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, q->body ? (const char *)q->body : "");
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->in_len);
    } else if (strcmp(q->method, "GET")) {
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, q->method);
    }

    cc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    hc_strlcpy(c->err.request_id, resp->request_id, sizeof(c->err.request_id));
    if (resp->too_big) {
        fail(c, status, "", "the answer is larger than we accept");
        rc = S3_PROTOCOL;
    } else if (resp->io_error) {
        fail(c, status, "", strerror(errno));
        rc = S3_IO;
    } else if (cc != CURLE_OK) {
        fail(c, 0, "", errbuf[0] ? errbuf : curl_easy_strerror(cc));
        rc = S3_NETWORK;
    } else if (status >= 200 && status < 300) {
        rc = S3_OK;
    } else {
        const char *end = resp->body ? resp->body + resp->len : NULL;

        c->err.http_status = status;
        if (!resp->body || xml_get(resp->body, end, "Code", c->err.code, sizeof(c->err.code)) < 0)
            hc_strlcpy(c->err.code, status == 404 ? "NotFound" : status == 403 ? "Forbidden" : "",
                       sizeof(c->err.code));
        if (resp->body) {
            xml_get(resp->body, end, "Message", c->err.message, sizeof(c->err.message));
            if (!c->err.request_id[0])
                xml_get(resp->body, end, "RequestId", c->err.request_id, sizeof(c->err.request_id));
        }
        rc = status_rc(status);
    }
end:
    if (rc == S3_NOMEM && !c->err.message[0])
        fail(c, 0, "", "out of memory");
    curl_slist_free_all(hl);
    free(url);
    sigv4_signed_free(&sg);
    return rc;
}

static void req_init(struct s3_req *q, const char *method, const char *fkey)
{
    memset(q, 0, sizeof(*q));
    q->method = method;
    q->full_key = fkey;
    q->in_fd = -1;
    q->out_fd = -1;
    q->mem_max = S3_XML_BODY_MAX;
    hc_strlcpy(q->payload_hash, SIGV4_EMPTY_SHA256, sizeof(q->payload_hash));
}

static void add_header(struct s3_req *q, const char *name, const char *value)
{
    if (value && q->nheaders < S3_MAX_HEADERS)
        q->headers[q->nheaders++] = (struct sigv4_pair){ name, value };
}

static void add_put_opts(struct s3_req *q, const struct s3_put_opts *o)
{
    if (!o)
        return;
    add_header(q, "Content-Type", o->content_type);
    add_header(q, "Cache-Control", o->cache_control);
}

/* Run a request whose answer we only need to succeed. */
static enum s3_rc run(struct s3_client *c, const struct s3_req *q)
{
    struct s3_resp resp;
    enum s3_rc rc = perform(c, q, &resp);

    free(resp.body);
    return rc;
}

static enum s3_rc bad_input(struct s3_client *c, const char *what)
{
    memset(&c->err, 0, sizeof(c->err));
    fail(c, 0, "", what);
    return S3_INVALID;
}

/* ---- objects ---- */

enum s3_rc s3_bucket_create(struct s3_client *c)
{
    struct s3_req q;
    char body[256];
    enum s3_rc rc;

    req_init(&q, "PUT", NULL);
    body[0] = '\0';
    if (strcmp(c->cfg.region, "us-east-1"))
        snprintf(body, sizeof(body), "<CreateBucketConfiguration><LocationConstraint>%s"
                 "</LocationConstraint></CreateBucketConfiguration>", c->cfg.region);
    q.body = body;
    q.in_len = (int64_t)strlen(body);
    sigv4_sha256_hex(body, strlen(body), q.payload_hash);
    rc = run(c, &q);
    if (rc == S3_REFUSED && (!strcmp(c->err.code, "BucketAlreadyOwnedByYou") ||
                             !strcmp(c->err.code, "BucketAlreadyExists")))
        rc = S3_OK;
    return rc;
}

enum s3_rc s3_put_buffer(struct s3_client *c, const char *key, const void *buf, size_t len,
                         const struct s3_put_opts *o)
{
    char fk[1100];
    struct s3_req q;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK || (!buf && len))
        return bad_input(c, "invalid key or buffer");
    req_init(&q, "PUT", fk);
    q.body = buf ? buf : "";
    q.in_len = (int64_t)len;
    sigv4_sha256_hex(q.body, len, q.payload_hash);
    add_put_opts(&q, o);
    return run(c, &q);
}

/* SHA-256 of len bytes of fd at off, by pread. */
static enum s3_rc hash_fd(int fd, int64_t off, int64_t len, char out[65])
{
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES], *buf = malloc(1 << 16);
    static const char hex[] = "0123456789abcdef";

    if (!buf)
        return S3_NOMEM;
    crypto_hash_sha256_init(&st);
    while (len > 0) {
        size_t want = len < (1 << 16) ? (size_t)len : (1 << 16);
        ssize_t got = pread(fd, buf, want, off);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            free(buf);
            return S3_IO;
        }
        crypto_hash_sha256_update(&st, buf, (unsigned long long)got);
        off += got;
        len -= got;
    }
    free(buf);
    crypto_hash_sha256_final(&st, h);
    for (size_t i = 0; i < sizeof(h); i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[64] = '\0';
    return S3_OK;
}

/* A PUT of a file's bytes: an object, or a part (query given). */
static enum s3_rc put_fd(struct s3_client *c, const char *fk, const struct sigv4_pair *query,
                         size_t nquery, int fd, int64_t off, int64_t len,
                         const struct s3_put_opts *o, char etag[80])
{
    struct s3_req q;
    struct s3_resp resp;
    enum s3_rc rc;

    if (fd < 0 || off < 0 || len < 0)
        return bad_input(c, "invalid file range");
    req_init(&q, "PUT", fk);
    q.query = query;
    q.nquery = nquery;
    q.in_fd = fd;
    q.in_off = off;
    q.in_len = len;
    if ((rc = hash_fd(fd, off, len, q.payload_hash)) != S3_OK) {
        memset(&c->err, 0, sizeof(c->err));
        fail(c, 0, "", rc == S3_IO ? strerror(errno) : "out of memory");
        return rc;
    }
    add_put_opts(&q, o);
    rc = perform(c, &q, &resp);
    if (rc == S3_OK && etag)
        hc_strlcpy(etag, resp.obj.etag, 80);
    free(resp.body);
    return rc;
}

enum s3_rc s3_put_fd(struct s3_client *c, const char *key, int fd, int64_t off, int64_t len,
                     const struct s3_put_opts *o)
{
    char fk[1100];

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK)
        return bad_input(c, "invalid key");
    return put_fd(c, fk, NULL, 0, fd, off, len, o, NULL);
}

enum s3_rc s3_get_fd(struct s3_client *c, const char *key, int fd, int64_t first, int64_t last,
                     int64_t max_bytes, struct s3_object *info)
{
    char fk[1100], range[64];
    struct s3_req q;
    struct s3_resp resp;
    enum s3_rc rc;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK || fd < 0 || max_bytes < 0 ||
        (first >= 0 && last >= 0 && last < first))
        return bad_input(c, "invalid key, file or range");
    req_init(&q, "GET", fk);
    q.out_fd = fd;
    q.out_max = max_bytes;
    if (first >= 0) {
        if (last >= 0)
            snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long)first, (long long)last);
        else
            snprintf(range, sizeof(range), "bytes=%lld-", (long long)first);
        add_header(&q, "Range", range);
    }
    rc = perform(c, &q, &resp);
    if (rc == S3_OK && info)
        *info = resp.obj;
    free(resp.body);
    return rc;
}

enum s3_rc s3_get_buffer(struct s3_client *c, const char *key, size_t max, char **out, size_t *len)
{
    char fk[1100];
    struct s3_req q;
    struct s3_resp resp;
    enum s3_rc rc;

    *out = NULL;
    *len = 0;
    if (full_key(c, key, fk, sizeof(fk)) != S3_OK)
        return bad_input(c, "invalid key");
    req_init(&q, "GET", fk);
    q.mem_max = max;
    rc = perform(c, &q, &resp);
    if (rc == S3_OK) {
        *out = resp.body ? resp.body : calloc(1, 1);
        *len = resp.len;
        if (!*out)
            rc = S3_NOMEM;
        return rc;
    }
    free(resp.body);
    return rc;
}

enum s3_rc s3_head(struct s3_client *c, const char *key, struct s3_object *info)
{
    char fk[1100];
    struct s3_req q;
    struct s3_resp resp;
    enum s3_rc rc;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK)
        return bad_input(c, "invalid key");
    req_init(&q, "HEAD", fk);
    q.head = 1;
    rc = perform(c, &q, &resp);
    if (rc == S3_OK && info)
        *info = resp.obj;
    free(resp.body);
    return rc;
}

static enum s3_rc delete_full(struct s3_client *c, const char *fk)
{
    struct s3_req q;
    enum s3_rc rc;

    req_init(&q, "DELETE", fk);
    rc = run(c, &q);
    return rc == S3_NOTFOUND && !strcmp(c->err.code, "NoSuchKey") ? S3_OK : rc;
}

enum s3_rc s3_delete(struct s3_client *c, const char *key)
{
    char fk[1100];

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK)
        return bad_input(c, "invalid key");
    return delete_full(c, fk);
}

enum s3_rc s3_delete_prefix(struct s3_client *c, const char *prefix, size_t *deleted)
{
    char fk[1100], key[1100];
    struct sigv4_pair qp[3] = { { "list-type", "2" }, { "max-keys", "1000" }, { "prefix", fk } };
    size_t count = 0;
    enum s3_rc rc = S3_OK;

    if (deleted)
        *deleted = 0;
    if (full_key(c, prefix, fk, sizeof(fk)) != S3_OK)
        return bad_input(c, "invalid prefix");
    /*
     * Each pass lists the first page and deletes it, until nothing is
     * left (bounded, should a store keep listing what it deleted).
     */
    for (int pass = 0; pass < 100000; pass++) {
        struct s3_req q;
        struct s3_resp resp;
        const char *p, *end, *vs, *ve;
        size_t on_page = 0;

        req_init(&q, "GET", NULL);
        q.query = qp;
        q.nquery = 3;
        if ((rc = perform(c, &q, &resp)) != S3_OK) {
            free(resp.body);
            break;
        }
        p = resp.body ? resp.body : "";
        end = p + resp.len;
        while (xml_find(p, end, "Contents", &vs, &ve)) {
            p = ve;
            if (xml_get(vs, ve, "Key", key, sizeof(key)) < 0 || strncmp(key, fk, strlen(fk))) {
                rc = S3_PROTOCOL;
                break;
            }
            if ((rc = delete_full(c, key)) != S3_OK)
                break;
            on_page++;
        }
        free(resp.body);
        count += on_page;
        if (rc != S3_OK || on_page == 0)
            break;
    }
    if (rc == S3_PROTOCOL)
        fail(c, 0, "", "a listing we cannot read");
    if (deleted)
        *deleted = count;
    return rc;
}

/* The full prefix a listing asks for: prefix below the configured one, or
 * all of the configured one when prefix is NULL or "". */
static enum s3_rc list_prefix(struct s3_client *c, const char *prefix, char *fk, size_t fksz)
{
    int n;

    if (prefix && *prefix)
        return full_key(c, prefix, fk, fksz);
    n = snprintf(fk, fksz, "%s%s", c->cfg.prefix, c->cfg.prefix[0] ? "/" : "");
    return n < 0 || (size_t)n >= fksz ? S3_INVALID : S3_OK;
}

/* ---- listings ---- */

/*
 * What tells ListObjectsV2 and ListMultipartUploads apart for
 * list_pages: the request's own parameters, the element of one entry and
 * how it is read, and the elements of a truncated answer that say where
 * the next page starts, with the parameters they go back as.
 */
struct listing {
    struct sigv4_pair fixed[2];     /* sent with every page (name NULL: none) */
    const char *entry;              /* "Contents", "Upload" */
    const char *next[2];            /* "NextContinuationToken"; "NextKeyMarker", ... */
    const char *param[2];           /* "continuation-token"; "key-marker", ... */
    /* One entry between vs and ve; fk is the full prefix listed, plen the
     * configured prefix's length with its '/'. 0 go on, 1 stop, -1 an
     * entry we cannot read. */
    int (*entry_fn)(void *ctx, const char *fk, size_t plen, const char *vs, const char *ve);
    void *ctx;
};

/* One page of listing l under prefix after another, until an answer is
 * not truncated or an entry stops it. S3_OK, the request's failure, or
 * S3_PROTOCOL for an answer we cannot read. */
static enum s3_rc list_pages(struct s3_client *c, const char *prefix, const struct listing *l)
{
    char fk[1100], marks[2][1100] = { "", "" }, trunc[8];
    struct sigv4_pair qp[5];
    size_t plen = strlen(c->cfg.prefix) + (c->cfg.prefix[0] ? 1 : 0);
    enum s3_rc rc = S3_OK;
    int stop = 0;

    if (list_prefix(c, prefix, fk, sizeof(fk)) != S3_OK)
        return bad_input(c, "invalid prefix");
    for (int page = 0; !stop && page < 100000; page++) {
        struct s3_req q;
        struct s3_resp resp;
        const char *p, *end, *vs, *ve;
        size_t nq = 0;

        for (int i = 0; i < 2; i++)
            if (l->fixed[i].name)
                qp[nq++] = l->fixed[i];
        qp[nq++] = (struct sigv4_pair){ "prefix", fk };
        for (int i = 0; i < 2 && marks[0][0]; i++)
            if (l->param[i])
                qp[nq++] = (struct sigv4_pair){ l->param[i], marks[i] };
        req_init(&q, "GET", NULL);
        q.query = qp;
        q.nquery = nq;
        if ((rc = perform(c, &q, &resp)) != S3_OK) {
            free(resp.body);
            return rc;
        }
        p = resp.body ? resp.body : "";
        end = p + resp.len;
        while (!stop && xml_find(p, end, l->entry, &vs, &ve)) {
            int r = l->entry_fn(l->ctx, fk, plen, vs, ve);
            p = ve;
            if (r < 0) {
                rc = S3_PROTOCOL;
                break;
            }
            stop = r;
        }
        p = resp.body ? resp.body : "";
        if (rc == S3_OK && !stop &&
            (xml_get(p, end, "IsTruncated", trunc, sizeof(trunc)) < 0 || strcmp(trunc, "true")))
            stop = 1;
        for (int i = 0; i < 2 && rc == S3_OK && !stop; i++)
            if (l->next[i] && xml_get(p, end, l->next[i], marks[i], sizeof(marks[i])) < 0)
                stop = 1;
        free(resp.body);
        if (rc != S3_OK) {
            fail(c, 0, "", "a listing we cannot read");
            return rc;
        }
    }
    return S3_OK;
}

/* s3_list's caller. */
struct object_walk {
    int (*fn)(void *ctx, const char *key, int64_t size);
    void *ctx;
};

/* One <Contents> of ListObjectsV2: its key (below the prefix listed) and size. */
static int object_entry(void *ctx, const char *fk, size_t plen, const char *vs, const char *ve)
{
    struct object_walk *w = ctx;
    char full[1100], size[32];
    int64_t n = 0;

    if (xml_get(vs, ve, "Key", full, sizeof(full)) < 0 || strncmp(full, fk, strlen(fk)) ||
        strlen(full) < plen || xml_get(vs, ve, "Size", size, sizeof(size)) < 0 ||
        hc_parse_i64(size, 0, INT64_MAX, &n) < 0)
        return -1;
    return w->fn(w->ctx, full + plen, n) != 0;
}

/* ListObjectsV2, page after page (continuation tokens). */
enum s3_rc s3_list(struct s3_client *c, const char *prefix,
                   int (*fn)(void *ctx, const char *key, int64_t size), void *ctx)
{
    struct object_walk w = { fn, ctx };
    const struct listing l = {
        .fixed = { { "list-type", "2" }, { "max-keys", "1000" } },
        .entry = "Contents",
        .next = { "NextContinuationToken", NULL },
        .param = { "continuation-token", NULL },
        .entry_fn = object_entry,
        .ctx = &w,
    };

    return list_pages(c, prefix, &l);
}

/* ---- multipart uploads ---- */

enum s3_rc s3_mpu_create(struct s3_client *c, const char *key, const struct s3_put_opts *o,
                         char *upload_id, size_t idsz)
{
    char fk[1100];
    struct sigv4_pair qp[1] = { { "uploads", NULL } };
    struct s3_req q;
    struct s3_resp resp;
    enum s3_rc rc;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK)
        return bad_input(c, "invalid key");
    req_init(&q, "POST", fk);
    q.query = qp;
    q.nquery = 1;
    add_put_opts(&q, o);
    rc = perform(c, &q, &resp);
    if (rc == S3_OK && (!resp.body ||
                        xml_get(resp.body, resp.body + resp.len, "UploadId", upload_id, idsz) < 0 ||
                        !upload_id[0])) {
        fail(c, 200, "", "no UploadId in the answer");
        rc = S3_PROTOCOL;
    }
    free(resp.body);
    return rc;
}

enum s3_rc s3_mpu_put_part(struct s3_client *c, const char *key, const char *upload_id, int number,
                           int fd, int64_t off, int64_t len, char etag[80])
{
    char fk[1100], num[16];
    struct sigv4_pair qp[2] = { { "partNumber", num }, { "uploadId", upload_id } };
    enum s3_rc rc;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK || !upload_id || !*upload_id ||
        number < 1 || number > 10000)
        return bad_input(c, "invalid key, upload id or part number");
    snprintf(num, sizeof(num), "%d", number);
    etag[0] = '\0';
    rc = put_fd(c, fk, qp, 2, fd, off, len, NULL, etag);
    if (rc == S3_OK && !etag[0]) {
        fail(c, 200, "", "no ETag for the part");
        rc = S3_PROTOCOL;
    }
    return rc;
}

enum s3_rc s3_mpu_put_part_buffer(struct s3_client *c, const char *key, const char *upload_id, int number,
                                  const void *buf, size_t len, char etag[80])
{
    char fk[1100], num[16];
    struct sigv4_pair qp[2] = { { "partNumber", num }, { "uploadId", upload_id } };
    struct s3_req q;
    struct s3_resp resp;
    enum s3_rc rc;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK || !upload_id || !*upload_id ||
        number < 1 || number > 10000 || (!buf && len))
        return bad_input(c, "invalid key, upload id, part number or buffer");
    snprintf(num, sizeof(num), "%d", number);
    etag[0] = '\0';
    req_init(&q, "PUT", fk);
    q.query = qp;
    q.nquery = 2;
    q.body = buf ? buf : "";
    q.in_len = (int64_t)len;
    sigv4_sha256_hex(q.body, len, q.payload_hash);
    rc = perform(c, &q, &resp);
    if (rc == S3_OK)
        hc_strlcpy(etag, resp.obj.etag, 80);
    free(resp.body);
    if (rc == S3_OK && !etag[0]) {
        fail(c, 200, "", "no ETag for the part");
        rc = S3_PROTOCOL;
    }
    return rc;
}

/* Append s to b (size cap) with XML's special characters escaped. */
static int xml_append(char *b, size_t cap, size_t *n, const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        size_t l = e ? strlen(e) : 1;

        if (*n + l + 1 > cap)
            return -1;
        memcpy(b + *n, e ? e : s, l);
        *n += l;
    }
    b[*n] = '\0';
    return 0;
}

/*
 * The CompleteMultipartUpload document for parts, in a new buffer (*n
 * bytes), or NULL if an ETag is too long or memory ran out.
 */
static char *complete_body(const struct s3_part *parts, size_t nparts, size_t *n)
{
    size_t cap = 128 + nparts * 160, m;
    char *body = malloc(cap);

    if (!body)
        return NULL;
    m = (size_t)snprintf(body, cap, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < nparts; i++) {
        m += (size_t)snprintf(body + m, cap - m, "<Part><PartNumber>%d</PartNumber><ETag>",
                              parts[i].number);
        if (m >= cap || xml_append(body, cap, &m, parts[i].etag) < 0)
            goto too_long;
        m += (size_t)snprintf(body + m, cap - m, "</ETag></Part>");
        if (m >= cap)
            goto too_long;
    }
    m += (size_t)snprintf(body + m, cap - m, "</CompleteMultipartUpload>");
    if (m >= cap)
        goto too_long;
    *n = m;
    return body;
too_long:
    free(body);
    return NULL;
}

enum s3_rc s3_mpu_complete(struct s3_client *c, const char *key, const char *upload_id,
                           const struct s3_part *parts, size_t nparts)
{
    char fk[1100];
    struct sigv4_pair qp[1] = { { "uploadId", upload_id } };
    struct s3_req q;
    struct s3_resp resp;
    size_t n = 0;
    char *body;
    enum s3_rc rc;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK || !upload_id || !*upload_id || !nparts ||
        nparts > 10000)
        return bad_input(c, "invalid key, upload id or parts");
    if (!(body = complete_body(parts, nparts, &n)))
        return bad_input(c, "an ETag is too long");
    req_init(&q, "POST", fk);
    q.query = qp;
    q.nquery = 1;
    q.body = body;
    q.in_len = (int64_t)n;
    sigv4_sha256_hex(body, n, q.payload_hash);
    add_header(&q, "Content-Type", "application/xml");
    rc = perform(c, &q, &resp);
    /* A 200 may still carry an <Error> (the store failed while combining). */
    if (rc == S3_OK && resp.body && strstr(resp.body, "<Error>")) {
        const char *end = resp.body + resp.len;

        c->err.http_status = 200;
        xml_get(resp.body, end, "Code", c->err.code, sizeof(c->err.code));
        xml_get(resp.body, end, "Message", c->err.message, sizeof(c->err.message));
        rc = S3_SERVER;
    }
    free(resp.body);
    free(body);
    return rc;
}

enum s3_rc s3_mpu_parts(struct s3_client *c, const char *key, const char *upload_id,
                        int (*fn)(void *ctx, const struct s3_part_info *p), void *ctx)
{
    char fk[1100], marker[16] = "", trunc[8], num[16];
    struct sigv4_pair qp[2];
    enum s3_rc rc = S3_OK;
    int stop = 0;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK || !upload_id || !*upload_id)
        return bad_input(c, "invalid key or upload id");
    for (int page = 0; !stop && page < 10000; page++) {
        struct s3_req q;
        struct s3_resp resp;
        const char *p, *end, *vs, *ve;
        size_t nq = 0;

        qp[nq++] = (struct sigv4_pair){ "uploadId", upload_id };
        if (marker[0])
            qp[nq++] = (struct sigv4_pair){ "part-number-marker", marker };
        req_init(&q, "GET", fk);
        q.query = qp;
        q.nquery = nq;
        if ((rc = perform(c, &q, &resp)) != S3_OK) {
            free(resp.body);
            return rc;
        }
        p = resp.body ? resp.body : "";
        end = p + resp.len;
        while (!stop && xml_find(p, end, "Part", &vs, &ve)) {
            struct s3_part_info pi;
            char size[24];
            long n;

            memset(&pi, 0, sizeof(pi));
            p = ve;
            if (xml_get(vs, ve, "PartNumber", num, sizeof(num)) < 0 ||
                hc_parse_long(num, 1, 10000, &n) ||
                xml_get(vs, ve, "ETag", pi.etag, sizeof(pi.etag)) < 0 ||
                xml_get(vs, ve, "Size", size, sizeof(size)) < 0 ||
                hc_parse_i64(size, 0, INT64_MAX, &pi.size)) {
                rc = S3_PROTOCOL;
                break;
            }
            pi.number = (int)n;
            stop = fn(ctx, &pi);
        }
        if (rc == S3_OK && !stop &&
            (xml_get(resp.body ? resp.body : "", end, "IsTruncated", trunc, sizeof(trunc)) < 0 ||
             strcmp(trunc, "true") ||
             xml_get(resp.body, end, "NextPartNumberMarker", marker, sizeof(marker)) < 0))
            stop = 1;
        free(resp.body);
        if (rc != S3_OK) {
            fail(c, 0, "", "a part listing we cannot read");
            return rc;
        }
    }
    return S3_OK;
}

enum s3_rc s3_mpu_abort(struct s3_client *c, const char *key, const char *upload_id)
{
    char fk[1100];
    struct sigv4_pair qp[1] = { { "uploadId", upload_id } };
    struct s3_req q;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK || !upload_id || !*upload_id)
        return bad_input(c, "invalid key or upload id");
    req_init(&q, "DELETE", fk);
    q.query = qp;
    q.nquery = 1;
    return run(c, &q);
}

/* s3_mpu_list's caller. */
struct upload_walk {
    int (*fn)(void *ctx, const struct s3_upload *u);
    void *ctx;
};

/* One <Upload> of ListMultipartUploads: its key, upload id and when it began. */
static int upload_entry(void *ctx, const char *fk, size_t plen, const char *vs, const char *ve)
{
    struct upload_walk *w = ctx;
    struct s3_upload u;
    char full[1100], when[64];

    (void)fk;
    memset(&u, 0, sizeof(u));
    if (xml_get(vs, ve, "Key", full, sizeof(full)) < 0 ||
        xml_get(vs, ve, "UploadId", u.upload_id, sizeof(u.upload_id)) < 0 || strlen(full) < plen)
        return -1;
    hc_strlcpy(u.key, full + plen, sizeof(u.key));
    if (xml_get(vs, ve, "Initiated", when, sizeof(when)) == 0)
        hc_parse_instant(when, &u.initiated);
    return w->fn(w->ctx, &u) != 0;
}

/* ListMultipartUploads, page after page (key and upload id markers). */
enum s3_rc s3_mpu_list(struct s3_client *c, const char *prefix,
                       int (*fn)(void *ctx, const struct s3_upload *u), void *ctx)
{
    struct upload_walk w = { fn, ctx };
    const struct listing l = {
        .fixed = { { "uploads", NULL }, { NULL, NULL } },
        .entry = "Upload",
        .next = { "NextKeyMarker", "NextUploadIdMarker" },
        .param = { "key-marker", "upload-id-marker" },
        .entry_fn = upload_entry,
        .ctx = &w,
    };

    return list_pages(c, prefix, &l);
}

/* ---- presigned URLs ---- */

enum s3_rc s3_presign_get(struct s3_client *c, const char *key, time_t now, long expires,
                          char *url, size_t urlsz)
{
    struct sigv4_creds cr = { c->cfg.access_key, c->cfg.secret_key, c->cfg.region, "s3" };
    struct sigv4_request sr;
    struct sigv4_signed sg;
    char fk[1100], host[384], path[1400];
    size_t n;

    if (full_key(c, key, fk, sizeof(fk)) != S3_OK)
        return bad_input(c, "invalid key");
    place(c, fk, host, sizeof(host), path, sizeof(path));
    sr = (struct sigv4_request){ "GET", host, path, NULL, 0, NULL, 0, NULL };
    if (sigv4_presign(&cr, &sr, now, expires, &sg) < 0)
        return bad_input(c, "cannot presign (expiry must be 1 to 604800 seconds)");
    n = (size_t)snprintf(url, urlsz, "%s://%s%s?%s", c->scheme, host, sg.path, sg.query);
    sigv4_signed_free(&sg);
    if (n >= urlsz)
        return bad_input(c, "the URL does not fit");
    return S3_OK;
}
