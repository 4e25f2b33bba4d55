/*
 * store.c - the media store (see store.h): local folders, or an S3 bucket
 * through the client of s3.h. The S3 side keeps a small pool of clients
 * (each holds one kept-alive connection) shared by the threads of a
 * process. Not for uploads in progress (uploads.c) nor for the catalog.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>

#include "conf.h"
#include "http.h"
#include "layout.h"
#include "s3.h"
#include "store.h"
#include "util.h"

#define POOL_MAX 16                       /* idle clients kept */
#define PLAYLIST_MAX (4 << 20)            /* a playlist read whole */
#define SYNC_DEPTH 3                      /* rung folders below a media folder */
#define SOURCE_MAX ((int64_t)1 << 42)     /* a source downloaded, at most */

static int s3_mode;
static struct s3_config s3cfg;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct s3_client *pool[POOL_MAX];
static int npool;

/* One file of a folder, as sent (store_sync). */
struct store_sent {
    char    path[256];    /* relative to the folder */
    int64_t size;
    int64_t mtime_ns;
};

int store_init(const struct conf *conf, char *err, size_t errsz)
{
    int rc = conf_s3(conf, &s3cfg, err, errsz);

    if (rc < 0)
        return -1;
    s3_mode = rc;
    if (s3_mode && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errsz, "libcurl cannot start");
        return -1;
    }
    return 0;
}

void store_close(void)
{
    pthread_mutex_lock(&pool_lock);
    while (npool > 0)
        s3_close(&pool[--npool]);
    pthread_mutex_unlock(&pool_lock);
}

int store_is_s3(void)
{
    return s3_mode;
}

struct s3_client *store_client(void)
{
    struct s3_client *c = NULL;

    if (!s3_mode)
        return NULL;
    pthread_mutex_lock(&pool_lock);
    if (npool > 0)
        c = pool[--npool];
    pthread_mutex_unlock(&pool_lock);
    if (!c && s3_open(&s3cfg, &c) != S3_OK)
        hc_log("store: cannot start an S3 client");
    return c;
}

void store_release(struct s3_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&pool_lock);
    if (npool < POOL_MAX) {
        pool[npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    s3_close(&c);
}

/* Log a failed call with the store's own words. */
static void log_fail(struct s3_client *c, const char *what, const char *key, enum s3_rc rc)
{
    char detail[600];

    s3_error_format(c, detail, sizeof(detail));
    hc_log("store: %s %s: %s (%s)", what, key, s3_rc_str(rc), detail);
}

int store_media_key(int64_t update_id, const char *file, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "media/%lld/%s", (long long)update_id, file);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int store_source_key(const char *upload_id, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "uploads/%s", upload_id);
    return n < 0 || (size_t)n >= outsz || !*upload_id || strchr(upload_id, '/') ? -1 : 0;
}

int store_upload_id(const char *input_path, char *out, size_t outsz)
{
    const char *base = strrchr(input_path, '/');
    size_t n;

    base = base ? base + 1 : input_path;
    n = strlen(base);
    if (n <= 5 || strcmp(base + n - 5, ".part") || n - 5 >= outsz)
        return -1;
    memcpy(out, base, n - 5);
    out[n - 5] = '\0';
    return 0;
}

int store_fetch_source(const char *input_path, const char *local_path)
{
    char id[200], key[300];
    struct s3_client *c;
    enum s3_rc rc;
    int fd;

    if (store_upload_id(input_path, id, sizeof(id)) < 0 || store_source_key(id, key, sizeof(key)) < 0) {
        hc_log("store: %s names no upload", input_path);
        return -1;
    }
    if ((fd = open(local_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        hc_log("store: cannot create %s: %s", local_path, strerror(errno));
        return -1;
    }
    if (!(c = store_client())) {
        close(fd);
        unlink(local_path);
        return -1;
    }
    rc = s3_get_fd(c, key, fd, -1, -1, SOURCE_MAX, NULL);
    if (rc != S3_OK)
        log_fail(c, "downloading the source", key, rc);
    store_release(c);
    if (close(fd) < 0 && rc == S3_OK) {
        hc_log("store: writing %s: %s", local_path, strerror(errno));
        rc = S3_IO;
    }
    if (rc != S3_OK)
        unlink(local_path);
    return rc == S3_OK ? 0 : rc == S3_NOTFOUND ? 1 : -1;
}

/* ---- reading media back (a ladder taking the first rendition over) ---- */

int store_get_media_text(int64_t update_id, const char *file, size_t max, char **out)
{
    char key[600];
    struct s3_client *c;
    size_t len;
    enum s3_rc rc;

    *out = NULL;
    if (store_media_key(update_id, file, key, sizeof(key)) < 0 || !(c = store_client()))
        return -1;
    rc = s3_get_buffer(c, key, max, out, &len);
    if (rc != S3_OK && rc != S3_NOTFOUND)
        log_fail(c, "reading", key, rc);
    store_release(c);
    if (rc != S3_OK) {
        free(*out);
        *out = NULL;
    }
    return rc == S3_OK ? 0 : rc == S3_NOTFOUND ? 1 : -1;
}

int store_fetch_media(int64_t update_id, const char *sub, const char *name, int dirfd)
{
    char key[600], file[300];
    struct s3_client *c;
    enum s3_rc rc;
    int fd;

    if (snprintf(file, sizeof(file), "%s/%s", sub, name) >= (int)sizeof(file) ||
        store_media_key(update_id, file, key, sizeof(key)) < 0)
        return -1;
    if ((fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
        hc_log("store: cannot create %s: %s", name, strerror(errno));
        return -1;
    }
    if (!(c = store_client())) {
        close(fd);
        unlinkat(dirfd, name, 0);
        return -1;
    }
    rc = s3_get_fd(c, key, fd, -1, -1, SOURCE_MAX, NULL);
    if (rc != S3_OK && rc != S3_NOTFOUND)
        log_fail(c, "downloading", key, rc);
    store_release(c);
    if (close(fd) < 0 && rc == S3_OK) {
        hc_log("store: writing %s: %s", name, strerror(errno));
        rc = S3_IO;
    }
    if (rc != S3_OK)
        unlinkat(dirfd, name, 0);
    return rc == S3_OK ? 0 : rc == S3_NOTFOUND ? 1 : -1;
}

int store_put_media_marker(int64_t update_id, const char *file)
{
    struct s3_put_opts o = { "application/octet-stream", "private, no-cache" };
    char key[600];
    struct s3_client *c;
    enum s3_rc rc;

    if (store_media_key(update_id, file, key, sizeof(key)) < 0 || !(c = store_client()))
        return -1;
    if ((rc = s3_put_buffer(c, key, "", 0, &o)) != S3_OK)
        log_fail(c, "uploading", key, rc);
    store_release(c);
    return rc == S3_OK ? 0 : -1;
}

/* ---- uploading a folder ---- */

void store_sync_init(struct store_sync *s, int64_t update_id, const char *sub)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->prefix, sizeof(s->prefix), "media/%lld/%s%s", (long long)update_id, sub, *sub ? "/" : "");
}

void store_sync_free(struct store_sync *s)
{
    free(s->sent);
    s->sent = NULL;
    s->n = s->cap = 0;
}

/* A file found in the folder. */
struct found {
    char    path[256];
    int64_t size, mtime_ns;
    int     playlist;
    char   *body;           /* a playlist's bytes as read before the rest */
    size_t  len;
};

struct walk {
    struct found *f;
    size_t n, cap;
};

static int is_version_name(const char *name)
{
    if (name[0] != 'v' || !name[1])
        return 0;
    for (const char *p = name + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

/* Left out of a folder's upload: temporary and hidden files, and at the
 * top what is published on its own. */
static int skipped(const char *name, int top)
{
    size_t n = strlen(name);

    if (name[0] == '.' || (n > 4 && !strcmp(name + n - 4, ".tmp")))
        return 1;
    return top && (!strcmp(name, LAYOUT_FIRST_DIR) || is_version_name(name) || strstr(name, ".work-") ||
                   !strncmp(name, "download.mp4", 12));
}

static int walk_dir(const char *root, const char *rel, int depth, struct walk *w)
{
    char path[LAYOUT_PATH_MAX + 300], sub[256];
    struct dirent *e;
    struct stat sb;
    DIR *d;
    int rc = 0;

    snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel);
    if (!(d = opendir(path)))
        return errno == ENOENT && !*rel ? 0 : -1;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || skipped(e->d_name, !*rel))
            continue;
        if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name) >= (int)sizeof(sub))
            continue;
        snprintf(path, sizeof(path), "%s/%s", root, sub);
        if (lstat(path, &sb) < 0)
            continue;   /* gone meanwhile */
        if (S_ISDIR(sb.st_mode)) {
            if (depth < SYNC_DEPTH)
                rc = walk_dir(root, sub, depth + 1, w);
            continue;
        }
        if (!S_ISREG(sb.st_mode))
            continue;
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 64;
            w->f = hc_realloc(w->f, w->cap * sizeof(*w->f));
        }
        memset(&w->f[w->n], 0, sizeof(w->f[w->n]));
        hc_strlcpy(w->f[w->n].path, sub, sizeof(w->f[w->n].path));
        w->f[w->n].size = (int64_t)sb.st_size;
        w->f[w->n].mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        w->f[w->n].playlist = strlen(sub) > 5 && !strcmp(sub + strlen(sub) - 5, ".m3u8");
        w->n++;
    }
    closedir(d);
    return rc;
}

static void walk_free(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->f[i].body);
    free(w->f);
    memset(w, 0, sizeof(*w));
}

static struct store_sent *sent_find(struct store_sync *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->sent[i].path, path))
            return &s->sent[i];
    return NULL;
}

/* Has f changed since it was last sent? */
static int changed(struct store_sync *s, const struct found *f)
{
    struct store_sent *e = sent_find(s, f->path);
    return !e || e->size != f->size || e->mtime_ns != f->mtime_ns;
}

static void mark_sent(struct store_sync *s, const struct found *f)
{
    struct store_sent *e = sent_find(s, f->path);

    if (!e) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 64;
            s->sent = hc_realloc(s->sent, s->cap * sizeof(*s->sent));
        }
        e = &s->sent[s->n++];
        hc_strlcpy(e->path, f->path, sizeof(e->path));
    }
    e->size = f->size;
    e->mtime_ns = f->mtime_ns;
}

/* Read a playlist whole (it is replaced whole, never rewritten in place). */
static int read_small(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    ssize_t r;

    *out = NULL;
    if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size > PLAYLIST_MAX) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *out = hc_malloc((size_t)sb.st_size + 1);
    r = pread(fd, *out, (size_t)sb.st_size, 0);
    close(fd);
    if (r < 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    *len = (size_t)r;
    return 0;
}

static const char *cache_of(const char *path)
{
    size_t n = strlen(path);

    if (n > 5 && !strcmp(path + n - 5, ".m3u8"))
        return "private, no-cache";          /* a playlist may grow */
    return "private, max-age=31536000, immutable";
}

/* Upload one file of the folder (the bytes on disk now). */
static int send_file(struct s3_client *c, struct store_sync *s, const char *dir, struct found *f)
{
    char path[LAYOUT_PATH_MAX + 300], key[1000];
    struct s3_put_opts o = { http_mime_type(f->path), cache_of(f->path) };
    struct stat sb;
    enum s3_rc rc;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, f->path);
    if (snprintf(key, sizeof(key), "%s%s", s->prefix, f->path) >= (int)sizeof(key))
        return -1;
    if (f->body) {
        rc = s3_put_buffer(c, key, f->body, f->len, &o);
    } else {
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) < 0) {
            hc_log("store: cannot read %s: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        /* What is there now: a file listed while it grew is sent whole,
         * and sent again next time (its listed size differs). */
        rc = s3_put_fd(c, key, fd, 0, (int64_t)sb.st_size, &o);
        close(fd);
    }
    if (rc != S3_OK) {
        log_fail(c, "uploading", key, rc);
        return -1;
    }
    mark_sent(s, f);
    return 0;
}

int store_sync_dir(struct store_sync *s, const char *dir)
{
    struct walk lists = { 0 }, files = { 0 };
    struct s3_client *c;
    char path[LAYOUT_PATH_MAX + 300];
    int rc = -1, master = -1;

    if (!(c = store_client()))
        return -1;
    /* 1. The playlists as they are now: they name complete segments only. */
    if (walk_dir(dir, "", 0, &lists) < 0) {
        hc_log("store: cannot list %s: %s", dir, strerror(errno));
        goto end;
    }
    for (size_t i = 0; i < lists.n; i++) {
        struct found *f = &lists.f[i];
        if (!f->playlist || !changed(s, f))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, f->path);
        if (read_small(path, &f->body, &f->len) < 0) {
            hc_log("store: cannot read %s", path);
            goto end;
        }
    }
    /* 2. Everything else, new or changed, found after those were read. */
    if (walk_dir(dir, "", 0, &files) < 0)
        goto end;
    for (size_t i = 0; i < files.n; i++)
        if (!files.f[i].playlist && changed(s, &files.f[i]) && send_file(c, s, dir, &files.f[i]) < 0)
            goto end;
    /* 3. The playlists read in step 1, the master playlist last. */
    for (size_t i = 0; i < lists.n; i++) {
        if (!lists.f[i].body)
            continue;
        if (!strcmp(lists.f[i].path, "master.m3u8")) {
            master = (int)i;
            continue;
        }
        if (send_file(c, s, dir, &lists.f[i]) < 0)
            goto end;
    }
    if (master >= 0 && send_file(c, s, dir, &lists.f[master]) < 0)
        goto end;
    rc = 0;
end:
    store_release(c);
    walk_free(&lists);
    walk_free(&files);
    return rc;
}

/* The number of a segment name "seg_NNNNN.m4s" in its folder, or -1. */
static long segment_number(const char *path, size_t *dirlen)
{
    const char *base = strrchr(path, '/');
    long n;
    char num[16];
    size_t len;

    base = base ? base + 1 : path;
    *dirlen = (size_t)(base - path);
    len = strlen(base);
    if (strncmp(base, "seg_", 4) || len < 9 || strcmp(base + len - 4, ".m4s") || len - 8 >= sizeof(num))
        return -1;
    memcpy(num, base + 4, len - 8);
    num[len - 8] = '\0';
    return hc_parse_long(num, 0, 1L << 30, &n) == 0 ? n : -1;
}

int store_sync_segments(struct store_sync *s, const char *dir)
{
    struct walk files = { 0 };
    struct s3_client *c;
    int rc = 0;

    if (walk_dir(dir, "", 0, &files) < 0) {
        walk_free(&files);
        return -1;
    }
    if (!(c = store_client())) {
        walk_free(&files);
        return -1;
    }
    for (size_t i = 0; i < files.n && rc == 0; i++) {
        size_t dl, dl2;
        long k = segment_number(files.f[i].path, &dl), later = 0;

        if (k < 0 || !changed(s, &files.f[i]))
            continue;
        for (size_t j = 0; j < files.n && !later; j++) {
            long k2 = segment_number(files.f[j].path, &dl2);
            later = k2 > k && dl2 == dl && !strncmp(files.f[i].path, files.f[j].path, dl);
        }
        if (later)
            rc = send_file(c, s, dir, &files.f[i]);
    }
    store_release(c);
    walk_free(&files);
    return rc;
}

/* ---- deleting ---- */

static int delete_prefix(struct s3_client *c, const char *prefix)
{
    size_t n = 0;
    enum s3_rc rc = s3_delete_prefix(c, prefix, &n);

    if (rc != S3_OK) {
        log_fail(c, "deleting", prefix, rc);
        return -1;
    }
    return 0;
}

int store_delete_media(int64_t update_id, const char *sub)
{
    char prefix[300];
    struct s3_client *c;
    int rc;

    snprintf(prefix, sizeof(prefix), "media/%lld/%s%s", (long long)update_id, sub, *sub ? "/" : "");
    if (!(c = store_client()))
        return -1;
    rc = delete_prefix(c, prefix);
    store_release(c);
    return rc;
}

void store_delete_update(const struct conf *conf, int64_t update_id, char *const *inputs, size_t ninputs)
{
    char path[LAYOUT_PATH_MAX], id[200], key[300];
    struct s3_client *c;

    if (layout_update_media(conf->data_dir, update_id, path, sizeof(path)) == 0)
        hc_rmtree(path);
    for (size_t i = 0; i < ninputs; i++)
        if (*inputs[i])
            unlink(inputs[i]);
    if (!s3_mode || !(c = store_client()))
        return;
    snprintf(path, sizeof(path), "media/%lld/", (long long)update_id);
    delete_prefix(c, path);
    for (size_t i = 0; i < ninputs; i++) {
        enum s3_rc rc;
        if (store_upload_id(inputs[i], id, sizeof(id)) < 0 || store_source_key(id, key, sizeof(key)) < 0)
            continue;
        if ((rc = s3_delete(c, key)) != S3_OK)
            log_fail(c, "deleting", key, rc);
    }
    store_release(c);
}

/* Keys under media/<id>/ to delete after a new version (store_remove_versions). */
struct versions {
    struct s3_client *c;
    size_t plen;            /* strlen("media/<id>/") */
    int version, previous;
    char (*keys)[600];
    size_t n, cap;
};

static int pick_old(void *ctx, const char *key, int64_t size)
{
    struct versions *v = ctx;
    const char *rest = key + v->plen, *slash = strchr(rest, '/');
    char top[64];
    long n = 0;
    int ver;

    (void)size;
    if (strlen(key) <= v->plen || strlen(key) >= sizeof(v->keys[0]))
        return 0;
    if (slash && (size_t)(slash - rest) < sizeof(top)) {
        memcpy(top, rest, (size_t)(slash - rest));
        top[slash - rest] = '\0';
    } else {
        hc_strlcpy(top, rest, sizeof(top));
    }
    if (!strcmp(top, LAYOUT_FIRST_DIR))
        return 0;
    if (slash && is_version_name(top) && hc_parse_long(top + 1, 1, 1L << 30, &n) == 0)
        ver = (int)n;
    else
        ver = 0;    /* a file of version 0 (its rung folders too) */
    if (ver == v->version || ver == v->previous)
        return 0;
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->keys = hc_realloc(v->keys, v->cap * sizeof(*v->keys));
    }
    hc_strlcpy(v->keys[v->n++], key, sizeof(v->keys[0]));
    return 0;
}

void store_remove_versions(int64_t update_id, int version, int previous)
{
    struct versions v = { 0 };
    char prefix[64];
    enum s3_rc rc;

    if (!s3_mode || !(v.c = store_client()))
        return;
    snprintf(prefix, sizeof(prefix), "media/%lld/", (long long)update_id);
    v.plen = strlen(prefix);
    v.version = version;
    v.previous = previous;
    if ((rc = s3_list(v.c, prefix, pick_old, &v)) != S3_OK)
        log_fail(v.c, "listing", prefix, rc);
    for (size_t i = 0; i < v.n; i++)
        if ((rc = s3_delete(v.c, v.keys[i])) != S3_OK)
            log_fail(v.c, "deleting", v.keys[i], rc);
    store_release(v.c);
    free(v.keys);
}

/* ---- profile pictures ---- */

int store_avatar_key(const char *name, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "avatars/%s", name);
    return n < 0 || (size_t)n >= outsz || !*name || strchr(name, '/') || name[0] == '.' ? -1 : 0;
}

int store_put_avatar(const char *name, const char *local_path)
{
    struct s3_put_opts o = { "image/jpeg", "private, max-age=31536000, immutable" };
    struct s3_client *c;
    struct stat sb;
    char key[300];
    enum s3_rc rc;
    int fd;

    if (!s3_mode)
        return 0;
    if (store_avatar_key(name, key, sizeof(key)) < 0)
        return -1;
    if ((fd = open(local_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) < 0) {
        hc_log("store: cannot read %s: %s", local_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!(c = store_client())) {
        close(fd);
        return -1;
    }
    rc = s3_put_fd(c, key, fd, 0, (int64_t)sb.st_size, &o);
    close(fd);
    if (rc != S3_OK)
        log_fail(c, "uploading", key, rc);
    store_release(c);
    if (rc != S3_OK)
        return -1;
    unlink(local_path);
    return 0;
}

void store_delete_avatar(const char *name)
{
    struct s3_client *c;
    char key[300];
    enum s3_rc rc;

    if (!s3_mode || store_avatar_key(name, key, sizeof(key)) < 0 || !(c = store_client()))
        return;
    if ((rc = s3_delete(c, key)) != S3_OK)
        log_fail(c, "deleting", key, rc);
    store_release(c);
}
