/*
 * http.h - the HTTP layer over libmicrohttpd: request state, responses that
 * handlers fill (they never touch the socket), JSON errors, files served
 * with sendfile, Range and validators, and the server's lifetime.
 */
#ifndef HUBCAST_HTTP_H
#define HUBCAST_HTTP_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "router.h"
#include "user.h"

struct conf;
struct catalog;
struct MHD_Connection;

struct req {
    struct MHD_Connection *conn;
    const char   *method;
    const char   *url;
    struct route_match match;
    struct catalog *cat;     /* this thread's catalog connection */
    const struct conf *conf;
    struct user   user;     /* the caller, when authed (auth.c fills it) */
    int           authed;
    char          ip[64];
    /* Buffered body (non-streaming routes), capped by conf->max_body. */
    char         *body;
    size_t        body_len;
    int           body_too_large;
    int           body_started;
    /* Streaming routes keep their own state here; state_free runs when the
     * request ends, completed or not (r->handled says whether the final
     * handler ran, r->aborted whether the client went away). */
    void         *state;
    void        (*state_free)(struct req *r);
    int           handled;
    int           aborted;
    /* A streaming route's error, answered instead of running the handler. */
    int           stream_status;
    char          stream_code[32];
    char          stream_msg[300];
    double        t_start;
    int           done;
    int           lang;     /* enum lang (i18n.h) of error messages: the caller's
                             * setting, else Accept-Language; set before any handler */
};

#define RESP_MAX_HEADERS 16

/*
 * A body read piece by piece from elsewhere (an object in the media
 * store): size bytes; read fills buf with up to max bytes from pos and
 * returns how many, or HTTP_READER_ERROR (-2) (the connection is then closed:
 * libmicrohttpd's MHD_CONTENT_READER_END_WITH_ERROR). free (may be NULL)
 * runs once, when the response is gone or was never sent.
 */
#define HTTP_READER_ERROR ((ssize_t)-2)

struct http_reader {
    uint64_t size;
    ssize_t (*read)(void *cls, uint64_t pos, char *buf, size_t max);
    void    (*free)(void *cls);
    void    *cls;
};

struct resp {
    int      status;
    json_t  *json;           /* body as JSON, or: */
    char    *text;           /* malloc'd body */
    size_t   text_len;
    const char *ctype;
    int      fd;             /* file body (sendfile), -1 if none */
    uint64_t fd_off, fd_len;
    struct http_reader reader; /* or a body from a reader (read NULL: none) */
    int      nheaders;
    char    *hname[RESP_MAX_HEADERS];
    char    *hvalue[RESP_MAX_HEADERS];
    int      lang;           /* enum lang (i18n.h) that http_error writes in */
};

/*
 * Set a JSON error body {"error":{"code":..,"message":..}}; returns status.
 * The message is in o->lang when i18n.c has the text of fmt (or of the
 * finished message) under code; otherwise in English. code never changes.
 */
int http_error(struct resp *o, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Set a JSON body (steals the reference); returns status. */
int http_json(struct resp *o, int status, json_t *body);
int http_text(struct resp *o, int status, const char *ctype, const char *text);
void http_header(struct resp *o, const char *name, const char *value);

/*
 * For RF_STREAM routes: the route's body callback is called once with
 * data == NULL right after admission (to validate headers and set up
 * state), then with each piece of the body. To refuse, it calls
 * http_stream_fail() and returns -1; the rest of the body is discarded
 * and the error is the answer.
 */
int http_stream_fail(struct req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Request helpers. */
const char *http_get_header(struct req *r, const char *name);
const char *http_get_arg(struct req *r, const char *name);
const char *http_get_cookie(struct req *r, const char *name);
/* Parse the buffered body as a JSON object; on failure fills o and returns NULL. */
json_t *http_body_json(struct req *r, struct resp *o);

/*
 * Serve one regular file below dirfd at relpath (already split from the
 * URL): no "..", no symlinks, no absolute paths, no hidden names. Handles
 * HEAD, Range (206/416), ETag and Last-Modified (304).
 */
int http_send_file(struct req *r, struct resp *o, int dirfd, const char *relpath,
                   const char *cache_control);
const char *http_mime_type(const char *path);

/*
 * What http_send_file does for a body that is not a local file (size
 * bytes, with this ETag and modification time; etag may be NULL): sets
 * the validators, Accept-Ranges, Cache-Control and o->ctype; answers 304
 * (If-None-Match, If-Modified-Since) or 416 itself and returns that
 * status; else returns 200 or 206 (Content-Range set) with the bytes to
 * send in *off and *len, for the caller to attach (o->reader).
 */
int http_prepare_body(struct req *r, struct resp *o, uint64_t size, const char *etag, time_t mtime,
                      const char *ctype, const char *cache_control, uint64_t *off, uint64_t *len);

/* A module's routes; the server looks through the tables in order. */
struct route_table {
    const struct route *routes;
    size_t              n;
};

/* Server lifetime (cmd_serve.c drives it). */
int  http_start(const struct conf *conf, const struct route_table *tables, size_t ntables);
void http_quiesce(void);
int  http_inflight(void);
void http_stop(void);

/* The calling thread's catalog connection, opened on first use. */
struct catalog *http_thread_catalog(void);
void http_close_catalogs(void);

#endif
