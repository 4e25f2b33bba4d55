/*
 * picture.c - profile pictures; see picture.h. The body goes, capped, into
 * an unnamed file (O_TMPFILE) below DATA/avatars; a job child of kind
 * avatar reads it and writes the new picture into a work folder of its
 * own; the parent renames the result to DATA/avatars/<user>-<random>.jpg,
 * records it in the catalog and removes the picture it replaces. Nothing
 * of a refused upload stays on disk.
 */
#include "config.h"

#include "picture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "avatar.h"
#include "conf.h"
#include "db_accounts.h"
#include "layout.h"
#include "media_s3.h"
#include "store.h"
#include "util.h"

#define URL_PREFIX "/api/avatars/"

json_t *picture_url_json(const char *name)
{
    char url[sizeof(URL_PREFIX) + DB_AVATAR_MAX];

    if (!name || !name[0])
        return json_null();
    snprintf(url, sizeof(url), URL_PREFIX "%s", name);
    return json_string(url);
}

/* The request body of a POST, as it arrives. */
struct pic {
    int     fd;         /* unnamed file below DATA/avatars */
    int64_t written;
};

static void pic_free(struct req *r)
{
    struct pic *p = r->state;

    if (p && p->fd >= 0)
        close(p->fd);
    free(p);
    r->state = NULL;
}

static int disk_fail(struct req *r, int err, const char *doing)
{
    hc_log("avatar: %s: %s", doing, strerror(err));
    if (err == ENOSPC || err == EFBIG || err == EDQUOT)
        return http_stream_fail(r, 507, "storage_full", "the server's disk is full, so the picture cannot be "
                                "stored right now; try again later");
    return http_stream_fail(r, 500, "storage", "the server could not store the picture (%s)", strerror(err));
}

static int too_large(struct req *r)
{
    return http_stream_fail(r, 413, "too_large", "the picture is larger than %d MB",
                            PICTURE_MAX_BYTES / (1024 * 1024));
}

static int body_avatar(struct req *r, const char *data, size_t len)
{
    struct pic *p = r->state;
    char dir[LAYOUT_PATH_MAX];
    const char *cl;
    int64_t n;

    if (!data) {
        cl = http_get_header(r, "Content-Length");
        if (cl && (hc_parse_i64(cl, 0, INT64_MAX, &n) < 0 || n > PICTURE_MAX_BYTES))
            return too_large(r);
        if (layout_avatars_dir(r->conf->data_dir, dir, sizeof(dir)) < 0)
            return disk_fail(r, ENAMETOOLONG, "naming the pictures folder");
        p = hc_calloc(1, sizeof(*p));
        r->state = p;
        r->state_free = pic_free;
        if ((p->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0)
            return disk_fail(r, errno, "creating the picture's file");
        return 0;
    }
    if (p->written + (int64_t)len > PICTURE_MAX_BYTES) {
        /* Nothing of it is kept: the unnamed file goes with its descriptor. */
        close(p->fd);
        p->fd = -1;
        return too_large(r);
    }
    while (len > 0) {
        ssize_t w = write(p->fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return disk_fail(r, w < 0 ? errno : EIO, "writing the picture");
        data += w;
        len -= (size_t)w;
        p->written += w;
    }
    return 0;
}

static picture_convert_fn converter;   /* set by `hubcast serve` */

void picture_set_converter(picture_convert_fn fn)
{
    converter = fn;
}

/* The caller's account as JSON, answered with status. */
static int answer_user(struct req *r, struct resp *o)
{
    struct db_user u;
    int rc = db_user_get(r->cat, r->user.id, &u);

    if (rc < 0 || rc == DB_NOTFOUND)
        return api_db_fail(o, rc < 0 ? rc : DB_ERROR, "reading your account");
    return http_json(o, 200, json_pack("{s:o}", "user", api_user_json(&u)));
}

/* Remove a picture file that the catalog no longer names. */
static void remove_file(const struct conf *conf, const char *name)
{
    char dir[LAYOUT_PATH_MAX], path[LAYOUT_PATH_MAX + DB_AVATAR_MAX + 2];

    if (!name[0])
        return;
    store_delete_avatar(name);
    if (layout_avatars_dir(conf->data_dir, dir, sizeof(dir)) < 0)
        return;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (unlink(path) < 0 && errno != ENOENT)
        hc_log("avatar: removing %s: %s", path, strerror(errno));
}

/* POST /api/me/avatar: the body is a JPEG or PNG of at most 5 MiB. 200
 * {user}, 413 too_large, 415 not_an_image, 507/503 as api_db_fail. */
static int h_avatar_post(struct req *r, struct resp *o)
{
    struct pic *p = r->state;
    char work[LAYOUT_PATH_MAX], dir[LAYOUT_PATH_MAX], rnd[48], name[DB_AVATAR_MAX];
    char from[LAYOUT_PATH_MAX + 32], to[LAYOUT_PATH_MAX + DB_AVATAR_MAX + 2], old[DB_AVATAR_MAX];
    char err[256] = "";
    int work_fd = -1, in_fd, fd, rc, st;

    if (!p || p->fd < 0 || p->written == 0)
        return http_error(o, 415, "not_an_image", "this file is not a JPEG or PNG picture Hubcast can read");
    if (layout_avatar_work(r->conf->data_dir, work, sizeof(work)) < 0 ||
        layout_avatars_dir(r->conf->data_dir, dir, sizeof(dir)) < 0 || !mkdtemp(work) ||
        (work_fd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        hc_log("avatar: work folder: %s", strerror(errno));
        if (errno == ENOSPC || errno == EDQUOT)
            return http_error(o, 507, "storage_full", "the server's disk is full, so the picture cannot be "
                              "stored right now; try again later");
        return http_error(o, 500, "storage", "the server could not store the picture (%s)", strerror(errno));
    }
    /* The child gets the bytes read-only (the unnamed file is ours). */
    snprintf(from, sizeof(from), "/proc/self/fd/%d", p->fd);
    if ((in_fd = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
        hc_log("avatar: reopening the upload: %s", strerror(errno));
        st = http_error(o, 500, "storage", "the server could not read the picture back (%s)", strerror(errno));
        goto out;
    }
    rc = converter ? converter(r->conf, in_fd, work_fd, err, sizeof(err)) : -2;
    close(in_fd);
    snprintf(from, sizeof(from), "%s/%s", work, TC_AVATAR_FILE);
    if (rc == -1) {
        st = http_error(o, 415, "not_an_image", "%s", err);
        goto out;
    }
    if (rc < 0) {
        st = http_error(o, 503, "busy", "the picture could not be processed right now; try again later");
        goto out;
    }
    hc_random_token(rnd, sizeof(rnd), 16);
    if (layout_avatar_name(r->user.id, rnd, name, sizeof(name)) < 0) {
        st = http_error(o, 500, "storage", "the server could not name the picture");
        goto out;
    }
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    if ((fd = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fsync(fd) < 0 ||
        rename(from, to) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        hc_log("avatar: storing %s: %s", to, strerror(e));
        st = e == ENOSPC || e == EDQUOT
            ? http_error(o, 507, "storage_full", "the server's disk is full, so the picture cannot be "
                         "stored right now; try again later")
            : http_error(o, 500, "storage", "the server could not store the picture (%s)", strerror(e));
        goto out;
    }
    close(fd);
    if (store_put_avatar(name, to) < 0) {
        unlink(to);
        st = http_error(o, 503, "store_unavailable", "the media store cannot take the picture now; try again later");
        goto out;
    }
    if ((rc = db_user_avatar_set(r->cat, r->user.id, name, old)) < 0 || rc == DB_NOTFOUND) {
        unlink(to);
        store_delete_avatar(name);
        st = api_db_fail(o, rc < 0 ? rc : DB_ERROR, "recording your picture");
        goto out;
    }
    remove_file(r->conf, old);
    st = answer_user(r, o);
out:
    close(work_fd);
    hc_rmtree(work);
    return st;
}

/* DELETE /api/me/avatar: back to the initials. 200 {user}. */
static int h_avatar_delete(struct req *r, struct resp *o)
{
    char old[DB_AVATAR_MAX];
    int rc = db_user_avatar_set(r->cat, r->user.id, NULL, old);

    if (rc < 0 || rc == DB_NOTFOUND)
        return api_db_fail(o, rc < 0 ? rc : DB_ERROR, "removing your picture");
    remove_file(r->conf, old);
    return answer_user(r, o);
}

/* GET /api/avatars/{name}: a picture, for signed-in members. A new picture
 * has a new name, so it can be kept for a year. */
static int h_avatar_get(struct req *r, struct resp *o)
{
    char dir[LAYOUT_PATH_MAX], key[300];
    int dfd, st;

    if (store_is_s3()) {
        if (!media_s3_path_ok(r->match.params[0]) ||
            store_avatar_key(r->match.params[0], key, sizeof(key)) < 0)
            return http_error(o, 404, "not_found", "there is no such picture");
        return media_s3_send(r, o, key, "image/jpeg", "private, max-age=31536000, immutable",
                             r->conf->media_redirect);
    }
    if (layout_avatars_dir(r->conf->data_dir, dir, sizeof(dir)) < 0 ||
        (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return http_error(o, 404, "not_found", "there is no such picture");
    st = http_send_file(r, o, dfd, r->match.params[0], "private, max-age=31536000, immutable");
    close(dfd);
    return st;
}

const struct route picture_routes[] = {
    { "POST",   "/api/me/avatar",       h_avatar_post,   ROLE_MEMBER, RF_STREAM, body_avatar },
    { "DELETE", "/api/me/avatar",       h_avatar_delete, ROLE_MEMBER, 0, NULL },
    { "GET",    "/api/avatars/{name}",  h_avatar_get,    ROLE_MEMBER, 0, NULL },
};
const size_t picture_nroutes = HC_ARRAY_LEN(picture_routes);
