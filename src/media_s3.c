/*
 * media_s3.c - /media answered from an S3 media store (store.h), after
 * media.c has checked access exactly as for files on disk: either the
 * object streamed through the server (Range, ETag, Content-Type and the
 * cache policy as for a local file), read from the store a chunk at a
 * time while the client takes it, or a 302 to a presigned GET URL that
 * lives --media-redirect seconds. Not for access checks (media.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "http.h"
#include "layout.h"
#include "media_s3.h"
#include "s3.h"
#include "store.h"
#include "util.h"

#define CHUNK (1 << 20)     /* bytes fetched from the store per request */

/* One response's body being read from the store. */
struct obj_reader {
    struct s3_client *c;    /* borrowed from the store's pool until the response ends */
    char     key[700];
    uint64_t first;         /* the body's first byte in the object */
    uint64_t len;           /* the body's length */
    int      memfd;         /* the chunk held, -1 none */
    uint64_t held_at;       /* body position of the chunk held */
    uint64_t held;          /* its length */
};

static void reader_free(void *cls)
{
    struct obj_reader *rd = cls;

    if (rd->memfd >= 0)
        close(rd->memfd);
    store_release(rd->c);
    free(rd);
}

/* Fetch the chunk that starts at body position pos. 0 or -1. */
static int fetch(struct obj_reader *rd, uint64_t pos)
{
    uint64_t n = rd->len - pos < CHUNK ? rd->len - pos : CHUNK;
    struct stat sb;
    enum s3_rc rc;
    char detail[600];

    if (ftruncate(rd->memfd, 0) < 0 || lseek(rd->memfd, 0, SEEK_SET) < 0)
        return -1;
    rc = s3_get_fd(rd->c, rd->key, rd->memfd, (int64_t)(rd->first + pos), (int64_t)(rd->first + pos + n - 1),
                   CHUNK, NULL);
    if (rc != S3_OK || fstat(rd->memfd, &sb) < 0 || (uint64_t)sb.st_size != n) {
        s3_error_format(rd->c, detail, sizeof(detail));
        hc_log("media: reading %s from the store: %s (%s)", rd->key, s3_rc_str(rc), detail);
        return -1;
    }
    rd->held_at = pos;
    rd->held = n;
    return 0;
}

static ssize_t reader_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct obj_reader *rd = cls;
    ssize_t got;

    if (pos >= rd->len)
        return HTTP_READER_ERROR;   /* libmicrohttpd never asks past the size it was given */
    if ((pos < rd->held_at || pos >= rd->held_at + rd->held) && fetch(rd, pos) < 0)
        return HTTP_READER_ERROR;
    if (max > rd->held_at + rd->held - pos)
        max = (size_t)(rd->held_at + rd->held - pos);
    got = pread(rd->memfd, buf, max, (off_t)(pos - rd->held_at));
    return got > 0 ? got : HTTP_READER_ERROR;
}

/* A relative path the store may be asked for: components that are not
 * empty, not hidden (no "." or ".."), printable, no backslash. */
int media_s3_path_ok(const char *file)
{
    const char *p = file;

    if (!*file)
        return 0;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 0 || p[0] == '.')
            return 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] < 0x21 || p[i] == 0x7f || p[i] == '\\' || p[i] == '?' || p[i] == '#')
                return 0;
        p += n;
        if (*p == '/' && !*++p)
            return 0;
    }
    return 1;
}

static int store_down(struct resp *o)
{
    return http_error(o, 503, "store_unavailable", "the media store cannot be reached; try again");
}

int media_s3_send(struct req *r, struct resp *o, const char *key, const char *ctype,
                  const char *cache_control, int redirect)
{
    struct obj_reader *rd;
    struct s3_object info;
    struct s3_client *c;
    uint64_t off = 0, len = 0;
    enum s3_rc rc;
    int st;

    if (!(c = store_client()))
        return store_down(o);
    if (redirect > 0) {
        char url[4096];
        if (redirect > 604800)
            redirect = 604800;  /* the longest a presigned URL may live */
        /* The object's existence is the store's to say: a presigned URL
         * to a missing key answers 404 there. */
        rc = s3_presign_get(c, key, hc_now(), redirect, url, sizeof(url));
        store_release(c);
        if (rc != S3_OK)
            return http_error(o, 500, "internal", "cannot sign a link to the media store");
        http_header(o, "Location", url);
        http_header(o, "Cache-Control", "private, no-store");
        o->status = 302;
        return 302;
    }
    if ((rc = s3_head(c, key, &info)) != S3_OK) {
        store_release(c);
        if (rc == S3_NOTFOUND)
            return http_error(o, 404, "not_found", "there is no such file");
        hc_log("media: looking up %s in the store: %s", key, s3_rc_str(rc));
        return store_down(o);
    }
    st = http_prepare_body(r, o, (uint64_t)info.size, info.etag, info.last_modified, ctype, cache_control,
                           &off, &len);
    if ((st != 200 && st != 206) || len == 0) {
        store_release(c);
        return st;
    }
    rd = hc_calloc(1, sizeof(*rd));
    rd->c = c;
    hc_strlcpy(rd->key, key, sizeof(rd->key));
    rd->first = off;
    rd->len = len;
    rd->held_at = rd->held = 0;
    if ((rd->memfd = memfd_create("hubcast-media", MFD_CLOEXEC)) < 0) {
        reader_free(rd);
        return http_error(o, 500, "internal", "cannot buffer the media");
    }
    o->reader = (struct http_reader){ len, reader_read, reader_free, rd };
    return st;
}

int media_s3_peek(const char *key, void *buf, size_t n)
{
    struct s3_client *c = store_client();
    struct stat sb;
    int fd, got = -1;

    if (!c)
        return -1;
    if ((fd = memfd_create("hubcast-peek", MFD_CLOEXEC)) >= 0 &&
        s3_get_fd(c, key, fd, 0, (int64_t)n - 1, (int64_t)n, NULL) == S3_OK && fstat(fd, &sb) == 0)
        got = (int)pread(fd, buf, (size_t)sb.st_size < n ? (size_t)sb.st_size : n, 0);
    if (fd >= 0)
        close(fd);
    store_release(c);
    return got;
}
