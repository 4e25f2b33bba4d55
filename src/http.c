/*
 * http.c - libmicrohttpd glue. One request's life: the first callback
 * matches the route, authenticates and checks the role and the declared
 * body size (refusing early, before reading a body nobody wants); the body
 * is buffered up to a cap or streamed to the route; the last callback runs
 * the handler and queues the response it filled. Everything a request
 * allocated is freed in the completion callback.
 *
 * Connection admission lives here too: a connection must finish the headers
 * of each request within --header-timeout of its accept (or of the end of
 * its previous request), and connections still waiting for their headers
 * may hold at most three quarters of --conn-limit, the oldest giving way
 * first, so that slow clients cannot lock out those that ask promptly.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <microhttpd.h>

#include "api.h"
#include "auth.h"
#include "catalog.h"
#include "conf.h"
#include "http.h"
#include "i18n.h"
#include "metrics.h"
#include "proxy.h"
#include "util.h"

static struct MHD_Daemon *daemon_;
static const struct conf *gconf;
static struct proxy_list gproxies;   /* --trusted-proxies */
static const struct route_table *gtables;
static size_t gntables;
static int webfd = -1;
static atomic_int inflight;
static char dbpath[1100];

/* ---- connection admission: the header deadline ---- */

/*
 * One TCP connection from accept to close. It is "waiting" while the
 * headers of its next request have not all arrived: from accept, and again
 * from the end of each request on a kept-alive connection. Waiting
 * connections sit in one list, oldest first.
 */
struct hconn {
    struct hconn *prev, *next;   /* the waiting list */
    int           fd;            /* the socket; valid until NOTIFY_CLOSED */
    int           waiting;       /* 1 while in the waiting list */
    int           cut;           /* 1 once shut down by us */
    int           kept;          /* 1 after its first request (kept alive) */
    double        since;         /* hc_monotonic() when it began waiting */
};

static pthread_mutex_t adm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t adm_cond;
static struct hconn *wait_head, *wait_tail;
static int nwaiting;             /* length of the waiting list */
static int wait_cap;             /* most waiting connections kept */
static int sweeper_run;          /* 1 while the sweeper should go on */
static pthread_t sweeper;
static int sweeper_started;
static long ncut_late, ncut_crowd;   /* closed since the last log line */
static int quiescing;            /* 1 once no new request is taken */

/* Append h to the waiting list. Caller holds adm_lock. */
static void wait_push(struct hconn *h)
{
    if (h->waiting || h->cut)
        return;
    h->since = hc_monotonic();
    h->prev = wait_tail;
    h->next = NULL;
    if (wait_tail)
        wait_tail->next = h;
    else
        wait_head = h;
    wait_tail = h;
    h->waiting = 1;
    nwaiting++;
}

/* Take h out of the waiting list. Caller holds adm_lock. */
static void wait_pop(struct hconn *h)
{
    if (!h->waiting)
        return;
    if (h->prev)
        h->prev->next = h->next;
    else
        wait_head = h->next;
    if (h->next)
        h->next->prev = h->prev;
    else
        wait_tail = h->prev;
    h->prev = h->next = NULL;
    h->waiting = 0;
    nwaiting--;
}

/*
 * Close a waiting connection: shutting the socket down makes
 * libmicrohttpd read end-of-file and close it in its own thread. The
 * socket is still open here because libmicrohttpd closes it only after
 * NOTIFY_CLOSED, which takes adm_lock first. Caller holds adm_lock.
 */
static void wait_cut(struct hconn *h)
{
    wait_pop(h);
    h->cut = 1;
    shutdown(h->fd, SHUT_RDWR);
}

/* The connection's admission record, or NULL. */
static struct hconn *conn_rec(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct hconn *h = *socket_context;

    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        h = hc_calloc(1, sizeof(*h));
        h->fd = ci ? ci->connect_fd : -1;
        pthread_mutex_lock(&adm_lock);
        /* Keep room for clients that ask promptly: past the cap, the
         * connection that has waited longest for its headers goes. */
        while (nwaiting >= wait_cap && wait_head) {
            wait_cut(wait_head);
            ncut_crowd++;
        }
        if (h->fd >= 0)
            wait_push(h);
        pthread_mutex_unlock(&adm_lock);
        *socket_context = h;
        return;
    }
    if (!h)
        return;
    pthread_mutex_lock(&adm_lock);
    wait_pop(h);
    pthread_mutex_unlock(&adm_lock);
    free(h);
    *socket_context = NULL;
}

/* The headers of a request are all in: the connection stops waiting. */
static void conn_headers_done(struct MHD_Connection *conn)
{
    struct hconn *h = conn_rec(conn);

    if (!h)
        return;
    pthread_mutex_lock(&adm_lock);
    wait_pop(h);
    pthread_mutex_unlock(&adm_lock);
}

/* A request ended and its connection stays open: it waits for the next. */
static void conn_request_done(struct MHD_Connection *conn)
{
    struct hconn *h = conn_rec(conn);

    if (!h)
        return;
    pthread_mutex_lock(&adm_lock);
    h->kept = 1;
    if (quiescing)
        wait_cut(h);    /* stopping: no next request on this connection */
    else
        wait_push(h);
    pthread_mutex_unlock(&adm_lock);
}

/*
 * Close connections past their header deadline, about four times a
 * deadline. A new connection has --header-timeout; a kept-alive one may
 * also sit idle between requests as long as --conn-timeout allows, as it
 * always could (clients reuse such connections without warning).
 */
static void *sweep_main(void *arg)
{
    double deadline = gconf->header_timeout, last_log = 0;
    double kept_deadline = gconf->conn_timeout > gconf->header_timeout ?
                           gconf->conn_timeout : gconf->header_timeout;
    long step_ms = deadline >= 4 ? 1000 : (long)(deadline * 250);
    struct timespec ts;

    (void)arg;
    pthread_mutex_lock(&adm_lock);
    while (sweeper_run) {
        double now = hc_monotonic();
        struct hconn *h = wait_head, *next;

        for (; h; h = next) {
            next = h->next;
            if (now - h->since >= (h->kept ? kept_deadline : deadline)) {
                wait_cut(h);
                ncut_late++;
            }
        }
        if ((ncut_late || ncut_crowd) && now - last_log >= 60) {
            hc_log("closed %ld connections that did not send their headers within %d s "
                   "and %ld that gave way to newer ones", ncut_late, gconf->header_timeout,
                   ncut_crowd);
            ncut_late = ncut_crowd = 0;
            last_log = now;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (step_ms % 1000) * 1000000L;
        ts.tv_sec += step_ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&adm_cond, &adm_lock, &ts);
    }
    pthread_mutex_unlock(&adm_lock);
    return NULL;
}

static int sweeper_start(void)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&adm_cond, &ca);
    pthread_condattr_destroy(&ca);
    wait_cap = gconf->conn_limit - gconf->conn_limit / 4;
    if (wait_cap < 1)
        wait_cap = 1;
    if (gconf->header_timeout <= 0)
        return 0;
    sweeper_run = 1;
    if (pthread_create(&sweeper, NULL, sweep_main, NULL) != 0) {
        hc_log("cannot start the connection sweeper");
        return -1;
    }
    sweeper_started = 1;
    return 0;
}

static void sweeper_stop(void)
{
    if (!sweeper_started)
        return;
    pthread_mutex_lock(&adm_lock);
    sweeper_run = 0;
    pthread_cond_signal(&adm_cond);
    pthread_mutex_unlock(&adm_lock);
    pthread_join(sweeper, NULL);
    sweeper_started = 0;
}

/* ---- per-thread catalog connections ---- */

static pthread_mutex_t cat_lock = PTHREAD_MUTEX_INITIALIZER;
static struct catalog *all_cats[256];
static int ncats;
static _Thread_local struct catalog *tl_cat;

struct catalog *http_thread_catalog(void)
{
    char err[512];

    if (tl_cat)
        return tl_cat;
    tl_cat = catalog_open(dbpath, 0, err, sizeof(err));
    if (!tl_cat) {
        hc_log("%s", err);
        return NULL;
    }
    pthread_mutex_lock(&cat_lock);
    if (ncats < (int)HC_ARRAY_LEN(all_cats))
        all_cats[ncats++] = tl_cat;
    pthread_mutex_unlock(&cat_lock);
    return tl_cat;
}

void http_close_catalogs(void)
{
    pthread_mutex_lock(&cat_lock);
    for (int i = 0; i < ncats; i++)
        catalog_close(all_cats[i]);
    ncats = 0;
    pthread_mutex_unlock(&cat_lock);
}

/* ---- responses ---- */

int http_json(struct resp *o, int status, json_t *body)
{
    if (o->json)
        json_decref(o->json);
    o->json = body;
    o->status = status;
    return status;
}

/*
 * Format an error message into msg in language lang: the translation of
 * fmt when i18n.c has one (it has the same conversions as fmt: the unit
 * tests check the table), else the English, then the translation of the
 * finished English text when that is a fixed text i18n.c knows.
 */
static void error_message(int lang, const char *code, char *msg, size_t msgsz,
                          const char *fmt, va_list ap)
{
    const char *tr = i18n_error_text((enum lang)lang, code, fmt);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    vsnprintf(msg, msgsz, tr ? tr : fmt, ap);
#pragma GCC diagnostic pop
    if (!tr && (tr = i18n_error_text((enum lang)lang, code, msg)) && !strchr(tr, '%'))
        hc_strlcpy(msg, tr, msgsz);
}

int http_error(struct resp *o, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    error_message(o->lang, code, msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return http_json(o, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

int http_text(struct resp *o, int status, const char *ctype, const char *text)
{
    free(o->text);
    o->text = hc_strdup(text);
    o->text_len = strlen(text);
    o->ctype = ctype;
    o->status = status;
    return status;
}

void http_header(struct resp *o, const char *name, const char *value)
{
    if (o->nheaders >= RESP_MAX_HEADERS || hc_has_crlf(name) || hc_has_crlf(value))
        return;
    o->hname[o->nheaders] = hc_strdup(name);
    o->hvalue[o->nheaders] = hc_strdup(value);
    o->nheaders++;
}

static void resp_free(struct resp *o)
{
    if (o->json)
        json_decref(o->json);
    free(o->text);
    if (o->fd >= 0)
        close(o->fd);
    if (o->reader.read && o->reader.free)
        o->reader.free(o->reader.cls);
    o->reader.read = NULL;
    for (int i = 0; i < o->nheaders; i++) {
        free(o->hname[i]);
        free(o->hvalue[i]);
    }
}

int http_stream_fail(struct req *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (r->stream_status)
        return -1;
    r->stream_status = status;
    hc_strlcpy(r->stream_code, code, sizeof(r->stream_code));
    va_start(ap, fmt);
    error_message(r->lang, code, r->stream_msg, sizeof(r->stream_msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- request helpers ---- */

const char *http_get_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_get_arg(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_get_cookie(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

json_t *http_body_json(struct req *r, struct resp *o)
{
    json_error_t jerr;
    json_t *j;

    if (!r->body_len) {
        http_error(o, 400, "bad_request", "this request needs a JSON body");
        return NULL;
    }
    j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) {
        http_error(o, 400, "bad_json", "the body is not valid JSON: %s (line %d)", jerr.text, jerr.line);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        http_error(o, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    return j;
}

/* ---- files ---- */

const char *http_mime_type(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".m3u8", "application/vnd.apple.mpegurl" },
        { ".m4s", "video/mp4" }, { ".mp4", "video/mp4" }, { ".m4a", "audio/mp4" },
        { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" }, { ".png", "image/png" },
        { ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" }, { ".webp", "image/webp" },
        { ".vtt", "text/vtt; charset=utf-8" },
        { ".html", "text/html; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" }, { ".mjs", "text/javascript; charset=utf-8" },
        { ".json", "application/json" }, { ".txt", "text/plain; charset=utf-8" },
        { ".woff2", "font/woff2" }, { ".map", "application/json" },
    };
    const char *dot = strrchr(path, '.');

    if (dot)
        for (size_t i = 0; i < HC_ARRAY_LEN(types); i++)
            if (!strcasecmp(dot, types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}

/* Walk relpath one component at a time, refusing symlinks and dot names. */
static int open_beneath(int dirfd, const char *relpath)
{
    char comp[256];
    const char *p = relpath;
    int fd = dup(dirfd);

    if (fd < 0)
        return -1;
    if (*p == '/' || *p == '\0') {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    while (*p) {
        size_t len = strcspn(p, "/");
        int last = p[len] == '\0', nfd;

        if (len == 0 || len >= sizeof(comp) || p[0] == '.') {
            close(fd);
            errno = ENOENT;
            return -1;
        }
        memcpy(comp, p, len);
        comp[len] = '\0';
        if (strchr(comp, '\\')) {
            close(fd);
            errno = ENOENT;
            return -1;
        }
        nfd = openat(fd, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
        close(fd);
        if (nfd < 0)
            return -1;
        fd = nfd;
        p += len + (last ? 0 : 1);
        if (!last && *p == '\0') {
            close(fd);
            errno = ENOENT;
            return -1;
        }
    }
    return fd;
}

static int parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    /* One range only: bytes=a-b, bytes=a-, bytes=-n. 1 = satisfiable range,
     * 0 = ignore the header, -1 = unsatisfiable. */
    char *end;
    unsigned long long a, b;

    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    h += 6;
    if (*h == '-') {
        errno = 0;
        b = strtoull(h + 1, &end, 10);
        if (errno || *end || end == h + 1)
            return 0;
        if (b == 0 || size == 0)
            return -1;
        if (b > size)
            b = size;
        *off = size - b;
        *len = b;
        return 1;
    }
    errno = 0;
    a = strtoull(h, &end, 10);
    if (errno || end == h || *end != '-')
        return 0;
    h = end + 1;
    if (*h == '\0') {
        b = size ? size - 1 : 0;
    } else {
        b = strtoull(h, &end, 10);
        if (errno || *end || b < a)
            return 0;
        if (b >= size)
            b = size - 1;
    }
    if (a >= size)
        return -1;
    *off = a;
    *len = b - a + 1;
    return 1;
}

int http_prepare_body(struct req *r, struct resp *o, uint64_t size, const char *etag, time_t mtime,
                      const char *ctype, const char *cache_control, uint64_t *off, uint64_t *len)
{
    char lastmod[64], buf[96];
    const char *inm, *ims, *range, *ifrange;
    struct tm tm;

    gmtime_r(&mtime, &tm);
    strftime(lastmod, sizeof(lastmod), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (etag && *etag)
        http_header(o, "ETag", etag);
    if (mtime > 0)
        http_header(o, "Last-Modified", lastmod);
    http_header(o, "Accept-Ranges", "bytes");
    if (cache_control)
        http_header(o, "Cache-Control", cache_control);
    o->ctype = ctype;

    inm = http_get_header(r, "If-None-Match");
    ims = http_get_header(r, "If-Modified-Since");
    if ((inm && etag && *etag && (strstr(inm, etag) || !strcmp(inm, "*"))) ||
        (!inm && ims && mtime > 0 && !strcmp(ims, lastmod))) {
        o->status = 304;
        return 304;
    }
    *off = 0;
    *len = size;
    range = http_get_header(r, "Range");
    ifrange = http_get_header(r, "If-Range");
    if (range && (!ifrange || (etag && !strcmp(ifrange, etag)) || !strcmp(ifrange, lastmod))) {
        int pr = parse_range(range, size, off, len);
        if (pr < 0) {
            snprintf(buf, sizeof(buf), "bytes */%llu", (unsigned long long)size);
            http_header(o, "Content-Range", buf);
            return http_error(o, 416, "range_not_satisfiable", "the requested range is outside the file");
        }
        if (pr > 0) {
            snprintf(buf, sizeof(buf), "bytes %llu-%llu/%llu", (unsigned long long)*off,
                     (unsigned long long)(*off + *len - 1), (unsigned long long)size);
            http_header(o, "Content-Range", buf);
            o->status = 206;
        } else {
            *off = 0;
            *len = size;
        }
    }
    if (!o->status)
        o->status = 200;
    return o->status;
}

int http_send_file(struct req *r, struct resp *o, int dirfd, const char *relpath,
                   const char *cache_control)
{
    struct stat st;
    char etag[64];
    uint64_t off = 0, len = 0;
    int fd, status;

    fd = open_beneath(dirfd, relpath);
    if (fd < 0)
        return http_error(o, 404, "not_found", "there is no such file");
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return http_error(o, 404, "not_found", "there is no such file");
    }
    snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"", (unsigned long long)st.st_ino,
             (unsigned long long)st.st_size, (long)st.st_mtime);
    status = http_prepare_body(r, o, (uint64_t)st.st_size, etag, st.st_mtime, http_mime_type(relpath),
                               cache_control, &off, &len);
    if (status != 200 && status != 206) {
        close(fd);
        return status;
    }
    o->fd = fd;
    o->fd_off = off;
    o->fd_len = len;
    return o->status;
}

/* ---- the request lifecycle ---- */

static void security_headers(struct MHD_Response *resp, const char *url)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy",
                            !strncmp(url, "/media/", 7) ? "no-referrer" : "same-origin");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'");
}

static int origin_allowed(const char *origin)
{
    const char *p = gconf->cors_origins;
    size_t olen;

    if (!origin || !*p)
        return 0;
    olen = strlen(origin);
    while (*p) {
        size_t len = strcspn(p, ",");
        while (len && (*p == ' ')) {
            p++;
            len--;
        }
        if (len == olen && !strncmp(p, origin, len))
            return 1;
        if (len == 1 && *p == '*')
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int cors_path(const char *url)
{
    return !strncmp(url, "/media/", 7) || !strncmp(url, "/api/uploads", 12);
}

static void cors_headers(struct req *r, struct MHD_Response *resp)
{
    const char *origin = http_get_header(r, "Origin");

    if (!cors_path(r->url) || !origin_allowed(origin))
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(resp, "Access-Control-Allow-Credentials", "true");
    MHD_add_response_header(resp, "Vary", "Origin");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
        "Location, Upload-Offset, Upload-Length, Upload-Defer-Length, Upload-Metadata, "
        "Upload-Expires, Tus-Version, Tus-Resumable, Tus-Max-Size, Tus-Extension, "
        "Tus-Checksum-Algorithm, Content-Range, Content-Length, ETag");
}

static enum MHD_Result queue(struct req *r, struct resp *o)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if (o->fd >= 0) {
        resp = MHD_create_response_from_fd_at_offset64(o->fd_len, o->fd, o->fd_off);
        if (resp)
            o->fd = -1;     /* owned by libmicrohttpd now */
    } else if (o->reader.read) {
        resp = MHD_create_response_from_callback(o->reader.size, 64 * 1024, o->reader.read,
                                                 o->reader.cls, o->reader.free);
        if (resp)
            o->reader.read = NULL;  /* owned by libmicrohttpd now, freed by it */
    } else if (o->json) {
        char *s = json_dumps(o->json, JSON_COMPACT);
        size_t n = strlen(s);
        char *s2 = hc_malloc(n + 2);
        memcpy(s2, s, n);
        s2[n] = '\n';
        s2[n + 1] = '\0';
        free(s);
        resp = MHD_create_response_from_buffer(n + 1, s2, MHD_RESPMEM_MUST_FREE);
        o->ctype = "application/json";
    } else if (o->text) {
        resp = MHD_create_response_from_buffer(o->text_len, o->text, MHD_RESPMEM_MUST_FREE);
        o->text = NULL;
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    if (o->ctype)
        MHD_add_response_header(resp, "Content-Type", o->ctype);
    for (int i = 0; i < o->nheaders; i++)
        MHD_add_response_header(resp, o->hname[i], o->hvalue[i]);
    if (!o->json && !o->ctype && o->status >= 400)
        MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    security_headers(resp, r->url);
    cors_headers(r, resp);
    if (!strncmp(r->url, "/api/", 5) && !MHD_get_response_header(resp, "Cache-Control"))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    ret = MHD_queue_response(r->conn, (unsigned)o->status, resp);
    MHD_destroy_response(resp);
    r->done = 1;
    return ret;
}

static enum MHD_Result answer_now(struct req *r, struct resp *o)
{
    enum MHD_Result ret = queue(r, o);
    resp_free(o);
    return ret;
}

/*
 * The web app is every file of web/ but its npm files (package.json,
 * package-lock.json), and of node_modules/ only the two browser libraries
 * the app loads (the same two files `make install` copies: WEB_VENDOR in
 * Makefile.am). Serving the source folder in development must not show more
 * than an installed server does.
 */
static int web_file_allowed(const char *path)
{
    static const char *const vendor[] = {
        "node_modules/hls.js/dist/hls.min.js",
        "node_modules/tus-js-client/dist/tus.min.js",
    };
    const char *base = strrchr(path, '/');

    base = base ? base + 1 : path;
    if (!strcmp(base, "package.json") || !strcmp(base, "package-lock.json"))
        return 0;
    if (strncmp(path, "node_modules/", 13) != 0)
        return 1;
    for (size_t i = 0; i < HC_ARRAY_LEN(vendor); i++)
        if (!strcmp(path, vendor[i]))
            return 1;
    return 0;
}

static int serve_static(struct req *r, struct resp *o)
{
    const char *path = r->url + 1;
    const char *slash = strrchr(r->url, '/');

    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        return http_error(o, 405, "method_not_allowed", "this address only answers GET");
    if (webfd < 0)
        return http_error(o, 404, "not_found", "the web app is not installed");
    /* App pages (no extension) all load the one page; files are files. */
    if (*path == '\0' || !strchr(slash ? slash : path, '.'))
        path = "index.html";
    if (!web_file_allowed(path))
        return http_error(o, 404, "not_found", "there is no such file");
    return http_send_file(r, o, webfd, path, !strcmp(path, "index.html") ? "no-cache" : "public, max-age=300");
}

/* Every X-Forwarded-For line of a request, joined by commas (capped). */
static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    char *buf = cls;
    size_t n = strlen(buf);

    (void)kind;
    if (key && value && !strcasecmp(key, "X-Forwarded-For") && n + strlen(value) + 2 < 2048)
        snprintf(buf + n, 2048 - n, "%s%s", n ? "," : "", value);
    return MHD_YES;
}

/* Behind a trusted proxy, the client is in X-Forwarded-For (src/proxy.c). */
static void forwarded_ip(struct req *r)
{
    char xff[2048] = "", peer[sizeof(r->ip)];

    if (!proxy_trusted(&gproxies, r->ip))
        return;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_xff, xff);
    hc_strlcpy(peer, r->ip, sizeof(peer));
    proxy_client(&gproxies, peer, xff, r->ip, sizeof(r->ip));
}

static void client_ip(struct req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    hc_strlcpy(r->ip, "unknown", sizeof(r->ip));
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, r->ip, sizeof(r->ip));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, r->ip, sizeof(r->ip));
    if (gproxies.n)
        forwarded_ip(r);
}

static int is_safe_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

static int match_route(struct req *r)
{
    int mismatch = 0;

    for (size_t i = 0; i < gntables; i++) {
        if (router_match(gtables[i].routes, gtables[i].n, r->method, r->url, &r->match) == 0)
            return 0;
        mismatch |= r->match.method_mismatch;
    }
    r->match.method_mismatch = mismatch;
    return -1;
}

/*
 * Who is calling: a Bearer token if the request has one, else the session
 * cookie. 0 (r->authed says whether anyone is signed in) or a negative
 * db_rc when the catalog could not say.
 */
static int resolve_user(struct req *r)
{
    const char *authz = http_get_header(r, "Authorization");
    int rc;

    r->authed = 0;
    if (authz && !strncasecmp(authz, "Bearer ", 7))
        rc = auth_resolve_bearer(r->cat, authz + 7, &r->user);
    else
        rc = auth_resolve_session(r->cat, http_get_cookie(r, SESSION_COOKIE), &r->user);
    if (rc < 0)
        return rc;
    r->authed = rc == DB_OK;
    return 0;
}

static int csrf_ok(struct req *r, int need_token)
{
    struct auth_origin ao = {
        .sec_fetch_site = http_get_header(r, "Sec-Fetch-Site"),
        .origin         = http_get_header(r, "Origin"),
        .host           = http_get_header(r, "Host"),
        .public_url     = r->conf->public_url,
        .csrf_token     = http_get_header(r, "X-CSRF-Token"),
    };
    return auth_csrf_ok(r->authed ? &r->user : NULL, &ao, need_token);
}

/* The language of the caller's messages: their setting when signed in,
 * else the first of English and French that the browser asks for. */
static int request_lang(struct req *r)
{
    enum lang l;

    if (r->authed && i18n_lang_parse(r->user.lang, &l) == 0)
        return l;
    return i18n_accept_language(http_get_header(r, "Accept-Language"), NULL);
}

/* First callback: decide whether this request may go on at all. */
static int admit(struct req *r, struct resp *o)
{
    const char *cl;
    const struct route *rt;
    int64_t len;
    int rc;

    if (match_route(r) < 0) {
        if (!strncmp(r->url, "/api/", 5) || !strcmp(r->url, "/api"))
            return r->match.method_mismatch
                ? http_error(o, 405, "method_not_allowed", "%s is not allowed on this address", r->method)
                : http_error(o, 404, "not_found", "there is no API at this address");
        if (!strncmp(r->url, "/media/", 7))
            return http_error(o, 404, "not_found", "there is no such file");
        return 0;    /* static files: the handler runs at the end */
    }
    rt = r->match.route;
    r->cat = http_thread_catalog();
    if (!r->cat)
        return http_error(o, 503, "catalog_unavailable", "the catalog cannot be opened; try again shortly");
    if ((rc = resolve_user(r)) < 0)
        return api_db_fail(o, rc, "checking who is signed in");
    if (r->authed)
        o->lang = r->lang = request_lang(r);
    if (rt->role >= ROLE_MEMBER && !r->authed)
        return http_error(o, 401, "unauthenticated", "sign in first");
    if (r->authed && r->user.role < rt->role)
        return http_error(o, 403, "forbidden", "only administrators can do this");
    if (!is_safe_method(r->method) && !csrf_ok(r, !(rt->flags & RF_NOCSRF)))
        return http_error(o, 403, "csrf", "this request did not come from a Hubcast page; reload the page and try again");
    cl = http_get_header(r, "Content-Length");
    if (!(rt->flags & RF_STREAM) && cl &&
        (hc_parse_i64(cl, 0, INT64_MAX, &len) < 0 || len > gconf->max_body))
        return http_error(o, 413, "too_large", "the request body is larger than %lld bytes",
                          (long long)gconf->max_body);
    if ((rt->flags & RF_STREAM) && rt->body && rt->body(r, NULL, 0) < 0) {
        if (!r->stream_status)
            http_stream_fail(r, 500, "internal", "the request could not be started");
        return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_msg);
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct req *r = *con_cls;
    struct resp o;
    int st;

    (void)cls;
    (void)version;
    memset(&o, 0, sizeof(o));
    o.fd = -1;
    if (!r) {
        conn_headers_done(conn);
        r = hc_calloc(1, sizeof(*r));
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->conf = gconf;
        r->t_start = hc_monotonic();
        client_ip(r);
        o.lang = r->lang = request_lang(r);
        atomic_fetch_add(&inflight, 1);
        *con_cls = r;
        /* CORS preflight for media and uploads. */
        if (!strcmp(method, "OPTIONS") && http_get_header(r, "Access-Control-Request-Method") &&
            cors_path(url)) {
            o.status = origin_allowed(http_get_header(r, "Origin")) ? 204 : 403;
            http_header(&o, "Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE, OPTIONS");
            http_header(&o, "Access-Control-Allow-Headers",
                "Authorization, Content-Type, Upload-Offset, Upload-Length, Upload-Defer-Length, "
                "Upload-Metadata, Upload-Checksum, Upload-Concat, Tus-Resumable, X-HTTP-Method-Override, "
                "X-Requested-With, X-CSRF-Token, Range");
            http_header(&o, "Access-Control-Max-Age", "600");
            return answer_now(r, &o);
        }
        if (admit(r, &o))
            return answer_now(r, &o);
        resp_free(&o);
        return MHD_YES;
    }
    o.lang = r->lang;
    if (*upload_data_size) {
        const struct route *rt = r->match.route;
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        r->body_started = 1;
        if (rt && (rt->flags & RF_STREAM) && rt->body) {
            if (!r->stream_status && rt->body(r, upload_data, n) < 0 && !r->stream_status)
                http_stream_fail(r, 500, "internal", "the upload could not be stored");
            return MHD_YES;
        }
        if (r->body_too_large || r->body_len + n > (size_t)gconf->max_body) {
            r->body_too_large = 1;
            return MHD_YES;
        }
        r->body = hc_realloc(r->body, r->body_len + n + 1);
        memcpy(r->body + r->body_len, upload_data, n);
        r->body_len += n;
        r->body[r->body_len] = '\0';
        return MHD_YES;
    }
    if (r->done)
        return MHD_YES;
    r->handled = 1;
    if (r->body_too_large)
        st = http_error(&o, 413, "too_large", "the request body is larger than %lld bytes",
                        (long long)gconf->max_body);
    else if (r->stream_status)
        st = http_error(&o, r->stream_status, r->stream_code, "%s", r->stream_msg);
    else if (r->match.route)
        st = r->match.route->handler(r, &o);
    else
        st = serve_static(r, &o);
    if (!o.status)
        o.status = st ? st : 500;
    return answer_now(r, &o);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;
    const union MHD_ConnectionInfo *ci;
    int status = 0;

    (void)cls;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        conn_request_done(conn);
    if (!r)
        return;
    r->aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
    if (ci)
        status = (int)ci->http_status;
    metrics_request(r->match.route ? r->match.route->pattern :
                    !strncmp(r->url, "/api/", 5) ? "/api/unknown" :
                    !strncmp(r->url, "/media/", 7) ? "/media/unknown" : "static",
                    r->method, status, hc_monotonic() - r->t_start);
    if (gconf->verbose)
        hc_log("%s %s %d %.1f ms from %s", r->method, r->url, status,
               (hc_monotonic() - r->t_start) * 1000, r->ip);
    if (r->state_free)
        r->state_free(r);
    free(r->body);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&inflight, 1);
}

static void on_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
    (void)cls;
    hc_log("libmicrohttpd panic at %s:%u: %s", file, line, reason ? reason : "");
    abort();
}

/*
 * Bind and listen on addr:port ourselves, so that the reason of a failure
 * can be told, and without SO_REUSEPORT: a port another process listens on
 * is refused (EADDRINUSE), never shared. Returns the socket, or -1 with
 * the reason logged.
 */
static int listen_socket(const struct conf *conf, const char *addr, int port, int *v6)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int fd, one = 1;

    memset(&ss, 0, sizeof(ss));
    *v6 = strchr(addr, ':') != NULL;
    if (*v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*s6);
        if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1) {
            hc_log("--listen %s: not an IPv6 address", conf->listen);
            return -1;
        }
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        sslen = sizeof(*s4);
        if (inet_pton(AF_INET, *addr ? addr : "0.0.0.0", &s4->sin_addr) != 1) {
            hc_log("--listen %s: not an IPv4 address", conf->listen);
            return -1;
        }
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        hc_log("cannot listen on %s: %s", conf->listen, strerror(errno));
        return -1;
    }
    /* SO_REUSEADDR only lets a restart bind while old connections linger
     * in TIME_WAIT; on Linux it never lets two sockets listen at once. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (*v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        if (e == EADDRINUSE)
            hc_log("cannot listen on %s: another process is already listening on this port "
                   "(stop it, or choose another --listen)", conf->listen);
        else
            hc_log("cannot listen on %s: %s", conf->listen, strerror(e));
        close(fd);
        return -1;
    }
    return fd;
}

int http_start(const struct conf *conf, const struct route_table *tables, size_t ntables)
{
    char addr[128], err[256];
    int port, lfd, v6;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads, per_ip;

    gconf = conf;
    gtables = tables;
    gntables = ntables;
    conf_catalog(conf, dbpath, sizeof(dbpath));
    MHD_set_panic_func(on_panic, NULL);
    if (conf_listen_split(conf->listen, addr, sizeof(addr), &port) < 0) {
        hc_log("--listen %s: expected ADDR:PORT", conf->listen);
        return -1;
    }
    if (proxy_list_parse(conf->trusted_proxies, &gproxies, err, sizeof(err)) < 0) {
        hc_log("%s", err);
        return -1;
    }
    if ((lfd = listen_socket(conf, addr, port, &v6)) < 0) {
        proxy_list_free(&gproxies);
        return -1;
    }
    if (v6)
        flags |= MHD_USE_IPv6;
    webfd = open(conf->web_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (webfd < 0)
        hc_log("web app folder %s: %s (pages will answer 404)", conf->web_dir, strerror(errno));
    threads = conf->http_threads > 0 ? (unsigned)conf->http_threads
                                     : (unsigned)(ncpu > 0 ? ncpu : 2);
    /* One address may hold an eighth of the connections unless told; a
     * connection limit per address would count a trusted proxy as one. */
    per_ip = conf->per_ip_limit > 0 ? (unsigned)conf->per_ip_limit
           : gproxies.n ? (unsigned)conf->conn_limit
           : (unsigned)(conf->conn_limit / 8 > 0 ? conf->conn_limit / 8 : 1);
    if (sweeper_start() < 0) {
        close(lfd);
        proxy_list_free(&gproxies);
        return -1;
    }
    daemon_ = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, NULL,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)lfd,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)conf->conn_timeout,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)conf->conn_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_END);
    if (!daemon_) {
        hc_log("cannot start the HTTP server on %s", conf->listen);
        sweeper_stop();
        close(lfd);
        proxy_list_free(&gproxies);
        return -1;
    }
    return 0;
}

/*
 * Stop taking requests: close the listen socket, close the connections
 * that wait for a request (kept-alive or new), and close every other one
 * once its request in flight is answered.
 */
void http_quiesce(void)
{
    if (daemon_) {
        MHD_socket s = MHD_quiesce_daemon(daemon_);
        if (s != MHD_INVALID_SOCKET)
            close(s);
    }
    pthread_mutex_lock(&adm_lock);
    quiescing = 1;
    while (wait_head)
        wait_cut(wait_head);
    pthread_mutex_unlock(&adm_lock);
}

int http_inflight(void)
{
    return atomic_load(&inflight);
}

void http_stop(void)
{
    sweeper_stop();
    if (daemon_)
        MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    if (webfd >= 0)
        close(webfd);
    webfd = -1;
    http_close_catalogs();
    proxy_list_free(&gproxies);
}
