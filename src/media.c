/*
 * media.c - /media/{id}/{file} for signed-in members and
 * /media/t/{token}/{id}/{file} for players and share links. The token sits
 * in the path, so the relative URIs inside playlists carry it to every
 * segment without rewriting a playlist. A token signs the update's id, its
 * random nonce and an expiry: it names that one update, never a later one
 * with the same id. Files are opened below DATA/media one component at a
 * time, refusing dot names and symlinks.
 *
 * Also the downloads, for an update's author and administrators only
 * (anyone else gets 404, as for what they may not see):
 * /api/updates/{id}/original, the stored source as it was uploaded
 * (DATA/uploads/<upload>.part, kept until the update is deleted), and
 * /api/updates/{id}/download.mp4, the top rung and the audio as one MP4,
 * remuxed once (transcoder/remux.c) into DATA/media/<id>/download.mp4 and
 * served from there until the rung is published again. /media never
 * serves that file: the HLS folder is for everyone who may watch.
 */
#include "config.h"

#include <errno.h>
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "api.h"
#include "catalog.h"
#include "conf.h"
#include "db_settings.h"
#include "db_trim.h"
#include "db_updates.h"
#include "http.h"
#include "layout.h"
#include "media.h"
#include "media_s3.h"
#include "remux.h"
#include "store.h"
#include "updates.h"
#include "util.h"

static unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
static int mediafd = -1;
/* A connection of media's own, for links made outside a request (mail
 * posters), where no catalog handle is at hand. */
static struct catalog *own_cat;
static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;

int media_init(struct catalog *c, const struct conf *conf)
{
    char path[LAYOUT_PATH_MAX], err[512], *b64 = NULL;
    size_t n = 0;
    int rc = db_setting_get(c, "media_secret", &b64);

    if (rc < 0)
        return -1;
    if (rc == DB_NOTFOUND || sodium_base642bin(key, sizeof(key), b64, strlen(b64), NULL, &n, NULL,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || n != sizeof(key)) {
        char enc[sodium_base64_ENCODED_LEN(sizeof(key), sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
        crypto_auth_hmacsha256_keygen(key);
        sodium_bin2base64(enc, sizeof(enc), key, sizeof(key), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        if (db_setting_set(c, "media_secret", enc) < 0) {
            free(b64);
            return -1;
        }
    }
    free(b64);
    if (layout_media_dir(conf->data_dir, path, sizeof(path)) < 0)
        return -1;
    hc_mkdirs(path, 0755);
    mediafd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (conf_catalog(conf, path, sizeof(path)) == 0 &&
        !(own_cat = catalog_open(path, 0, err, sizeof(err))))
        hc_log("media: %s", err);
    return mediafd < 0 ? -1 : 0;
}

void media_close(void)
{
    if (mediafd >= 0)
        close(mediafd);
    mediafd = -1;
    pthread_mutex_lock(&own_lock);
    catalog_close(own_cat);
    own_cat = NULL;
    pthread_mutex_unlock(&own_lock);
}

static void sign(int64_t id, const char *nonce, long long exp, char *out, size_t outsz)
{
    char msg[128];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char enc[64];

    snprintf(msg, sizeof(msg), "%lld:%s:%lld", (long long)id, nonce, exp);
    crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg), key);
    sodium_bin2base64(enc, sizeof(enc), mac, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, outsz, "%lld.%s", exp, enc);
}

void media_url_nonce(int64_t update_id, const char *nonce, const char *file, int ttl, char *out, size_t outsz)
{
    char tok[96];
    /* Round the expiry so that repeated calls give the same URL for a while
     * and players can cache. */
    long long exp = ((long long)hc_now() + ttl) / 600 * 600 + 600;

    sign(update_id, nonce, exp, tok, sizeof(tok));
    snprintf(out, outsz, "/media/t/%s/%lld/%s", tok, (long long)update_id, file);
}

void media_url(int64_t update_id, const char *nonce, const char *file, char *out, size_t outsz)
{
    media_url_nonce(update_id, nonce, file, MEDIA_TOKEN_TTL, out, outsz);
}

void media_url_ttl(int64_t update_id, const char *file, int ttl, char *out, size_t outsz)
{
    char nonce[DB_NONCE_SIZE];
    int rc = DB_ERROR;

    pthread_mutex_lock(&own_lock);
    if (own_cat)
        rc = db_update_nonce(own_cat, update_id, nonce);
    pthread_mutex_unlock(&own_lock);
    if (rc != DB_OK) {
        /* No such update (or no catalog): a link that plays nothing. */
        hc_log("media: no link for update %lld: %s", (long long)update_id, db_rc_name(rc));
        out[0] = '\0';
        return;
    }
    media_url_nonce(update_id, nonce, file, ttl, out, outsz);
}

static int verify(const char *tok, int64_t id, const char *nonce)
{
    char want[96];
    const char *dot = strchr(tok, '.');
    int64_t exp;
    char expstr[24];

    if (!dot || (size_t)(dot - tok) >= sizeof(expstr))
        return 0;
    memcpy(expstr, tok, (size_t)(dot - tok));
    expstr[dot - tok] = '\0';
    if (hc_parse_i64(expstr, 0, INT64_MAX, &exp) < 0 || exp < (int64_t)hc_now())
        return 0;
    sign(id, nonce, (long long)exp, want, sizeof(want));
    return hc_streq_ct(tok, want);
}

/* Is file below the first rendition's folder? */
static int is_first(const char *file)
{
    return !strncmp(file, LAYOUT_FIRST_DIR "/", strlen(LAYOUT_FIRST_DIR) + 1);
}

/* The published update id names, with its nonce: 0, or the status of the
 * error answered (404 for no such ready update, 503/507 for the catalog).
 * The first rendition's files are there before the update is ready, for
 * whoever may see it (v; NULL: a token holder, checked by the caller). */
static int lookup(struct req *r, struct resp *o, const char *idstr, const char *file,
                  const struct db_viewer *v, int64_t *id, char nonce[DB_NONCE_SIZE])
{
    int rc;

    if (hc_parse_i64(idstr, 1, INT64_MAX, id) < 0 || mediafd < 0)
        return http_error(o, 404, "not_found", "there is no such file");
    rc = is_first(file) ? db_update_media_first(r->cat, v, *id, nonce) : db_update_media(r->cat, *id, nonce);
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "this video is not ready");
    if (rc < 0)
        return api_db_fail(o, rc, "looking up a video");
    return 0;
}

#define DOWNLOAD_FILE "download.mp4"   /* the cached MP4 in an update's media folder */

/*
 * The file from an S3 media store. Playlists always pass through the
 * server: the player resolves their relative URIs against the address it
 * read them from, which must stay this one (its token in the path), not
 * the store's. Other files are redirected with --media-redirect.
 */
static int serve_store(struct req *r, struct resp *o, int64_t id, const char *file, const char *cache,
                       int playlist)
{
    char okey[700];

    if (!media_s3_path_ok(file) || store_media_key(id, file, okey, sizeof(okey)) < 0)
        return http_error(o, 404, "not_found", "there is no such file");
    return media_s3_send(r, o, okey, http_mime_type(file), cache, playlist ? 0 : r->conf->media_redirect);
}

static int serve(struct req *r, struct resp *o, int64_t id, const char *file)
{
    char rel[600];
    const char *dot, *cache, *base = strrchr(file, '/');
    int playlist;

    /* The download (and its temporary files) only through its own route. */
    if (!strncmp(base ? base + 1 : file, DOWNLOAD_FILE, strlen(DOWNLOAD_FILE)))
        return http_error(o, 404, "not_found", "there is no such file");
    if (layout_media_rel(id, file, rel, sizeof(rel)) < 0)
        return http_error(o, 404, "not_found", "there is no such file");
    dot = strrchr(file, '.');
    playlist = dot && !strcmp(dot, ".m3u8");
    /* Playlists change (an EVENT playlist grows, a master gains rungs):
     * never cached as immutable. Segments never change once listed. */
    cache = playlist ? "private, no-cache" : "private, max-age=31536000, immutable";
    if (store_is_s3())
        return serve_store(r, o, id, file, cache, playlist);
    return http_send_file(r, o, mediafd, rel, cache);
}

static int h_media(struct req *r, struct resp *o)
{
    char nonce[DB_NONCE_SIZE];
    int64_t id;
    int st;

    struct db_viewer v;

    updates_viewer(r, &v);
    if ((st = lookup(r, o, r->match.params[0], r->match.params[1], &v, &id, nonce)))
        return st;
    return serve(r, o, id, r->match.params[1]);
}

static int h_media_token(struct req *r, struct resp *o)
{
    char nonce[DB_NONCE_SIZE];
    struct db_viewer v, *vp = NULL;
    int64_t id;
    int st;

    const char *file = r->match.params[2];

    /* The first rendition goes by who asks when they are signed in (once
     * trimmed it is its author's alone, whatever the token says). */
    if (is_first(file) && r->authed) {
        updates_viewer(r, &v);
        vp = &v;
    }
    if ((st = lookup(r, o, r->match.params[1], file, vp, &id, nonce)))
        return st;
    /* A signed-in member may fetch it without a valid token (the first
     * rendition only when they may see the update, checked above). */
    if (!verify(r->match.params[0], id, nonce) && !r->authed)
        return http_error(o, 401, "unauthenticated", "this link has expired; reload the page");
    return serve(r, o, id, file);
}

/* ---- downloads ---- */

/* The update the path names, if the caller is its author or an
 * administrator: 0 with *u (free with db_update_free), else the status of
 * the error answered (404 for anyone else, as if it did not exist). */
static int load_own(struct req *r, struct resp *o, struct db_update *u)
{
    struct db_viewer v;
    int64_t id;
    int rc;

    memset(u, 0, sizeof(*u));
    if (api_parse_id(r->match.params[0], &id) < 0)
        return http_error(o, 404, "not_found", "there is no such update");
    updates_viewer(r, &v);
    rc = db_update_get(r->cat, &v, id, u);
    if (rc == DB_OK && !v.admin && u->author_id != v.user_id) {
        db_update_free(u);
        rc = DB_NOTFOUND;
    }
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no such update");
    if (rc < 0)
        return api_db_fail(o, rc, "reading the update");
    return 0;
}

/*
 * A file name from a title: characters that are unsafe in a file name
 * (controls, / \ : * ? " < > |) become "-", spaces are squeezed, leading
 * dots and blanks go, at most 80 bytes (whole UTF-8 characters); an empty
 * result becomes "update-<id>". ext ("mp4") is added.
 */
void media_download_name(const char *title, int64_t id, const char *ext, char *out, size_t outsz)
{
    size_t len = 0, cap = outsz > 81 ? 80 : outsz - 1;
    const unsigned char *p = (const unsigned char *)(title ? title : "");

    while (*p == ' ' || *p == '.' || *p == '\t')
        p++;
    for (; *p && len < cap; p++) {
        unsigned char ch = *p;
        size_t l = 1;
        if (ch < 0x20 || ch == 0x7f || strchr("/\\:*?\"<>|", ch))
            ch = '-';
        if (ch == ' ' && len && out[len - 1] == ' ')
            continue;
        if (ch >= 0xc0)                 /* a UTF-8 lead byte: its whole character or nothing */
            for (l = 1; (p[l] & 0xc0) == 0x80; l++)
                ;
        if (len + l > cap)
            break;
        memcpy(out + len, ch == *p ? (const char *)p : "-", l);
        len += l;
        p += l - 1;
    }
    while (len && (out[len - 1] == ' ' || out[len - 1] == '.'))
        len--;
    out[len] = '\0';
    if (!len)
        snprintf(out, outsz, "update-%lld", (long long)id);
    len = strlen(out);
    snprintf(out + len, outsz - len, ".%s", ext);
}

/* Content-Disposition: attachment with name as an ASCII filename (other
 * bytes as "_") and as filename* (RFC 8187, UTF-8, percent-encoded). */
static void attachment(struct resp *o, const char *name)
{
    char ascii[128], pct[512], hdr[800];
    size_t a = 0, q = 0;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (a + 1 < sizeof(ascii))
            ascii[a++] = *p < 0x80 && *p != '"' && *p != '\\' && *p != '%' ? (char)*p : '_';
        if (q + 4 >= sizeof(pct))
            continue;
        if (isalnum(*p) || strchr("!#$&+-.^_`|~", *p))
            pct[q++] = (char)*p;
        else
            q += (size_t)snprintf(pct + q, sizeof(pct) - q, "%%%02X", *p);
    }
    ascii[a] = pct[q] = '\0';
    snprintf(hdr, sizeof(hdr), "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, pct);
    http_header(o, "Content-Disposition", hdr);
}

/* The container of a stored source, from its first bytes: its file name
 * extension and MIME type. */
static void source_type(const unsigned char *b, ssize_t n, const char **ext, const char **mime)
{
    *ext = "bin";
    *mime = "application/octet-stream";
    if (n >= 12 && !memcmp(b + 4, "ftyp", 4)) {
        int qt = !memcmp(b + 8, "qt  ", 4);
        *ext = qt ? "mov" : "mp4";
        *mime = qt ? "video/quicktime" : "video/mp4";
    } else if (n >= 4 && !memcmp(b, "\x1a\x45\xdf\xa3", 4)) {
        int webm = memmem(b, (size_t)n, "webm", 4) != NULL;
        *ext = webm ? "webm" : "mkv";
        *mime = webm ? "video/webm" : "video/x-matroska";
    } else if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "AVI ", 4)) {
        *ext = "avi";
        *mime = "video/x-msvideo";
    } else if (n >= 1 && b[0] == 0x47) {
        *ext = "ts";
        *mime = "video/mp2t";
    }
}

/* The original from an S3 media store: its upload's object. */
static int original_from_store(struct req *r, struct resp *o, const struct db_update *u, const char *src)
{
    char id[200], okey[300], name[128];
    unsigned char head[64] = { 0 };
    const char *ext, *mime;
    int st;

    if (store_upload_id(src, id, sizeof(id)) < 0 || store_source_key(id, okey, sizeof(okey)) < 0)
        return http_error(o, 404, "not_found", "the original of this update is not kept");
    st = media_s3_send(r, o, okey, "application/octet-stream", "private, no-store", 0);
    if (st == 200 || st == 206) {
        source_type(head, media_s3_peek(okey, head, sizeof(head)), &ext, &mime);
        o->ctype = mime;
        media_download_name(u->title, u->id, ext, name, sizeof(name));
        attachment(o, name);
    }
    return st;
}

static int h_original(struct req *r, struct resp *o)
{
    char src[DB_PATH_SIZE], dir[LAYOUT_PATH_MAX], name[128];
    const char *base, *ext, *mime;
    struct db_update u;
    size_t dl;
    int st, rc, dirfd;

    if ((st = load_own(r, o, &u)))
        return st;
    rc = db_update_source(r->cat, u.id, src);
    if (rc < 0) {
        db_update_free(&u);
        return api_db_fail(o, rc, "looking up the original");
    }
    if (rc == DB_OK && store_is_s3()) {
        st = original_from_store(r, o, &u, src);
        db_update_free(&u);
        return st;
    }
    /* Only a file directly in DATA/uploads, whatever the catalog says. */
    if (rc == DB_NOTFOUND || layout_uploads_dir(r->conf->data_dir, dir, sizeof(dir)) < 0 ||
        strncmp(src, dir, (dl = strlen(dir))) || src[dl] != '/' || strchr((base = src + dl + 1), '/') ||
        (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        db_update_free(&u);
        return http_error(o, 404, "not_found", "the original of this update is not kept");
    }
    st = http_send_file(r, o, dirfd, base, "private, no-store");
    close(dirfd);
    if (st == 200 || st == 206) {
        unsigned char head[64] = { 0 };
        source_type(head, pread(o->fd, head, sizeof(head), 0), &ext, &mime);
        o->ctype = mime;
        media_download_name(u.title, u.id, ext, name, sizeof(name));
        attachment(o, name);
    }
    db_update_free(&u);
    return st;
}

/* Is the cached download at path at least as new as the playlist it was
 * made from? */
static int fresh(const char *path, const char *playlist)
{
    struct stat a, b;

    return stat(path, &a) == 0 && stat(playlist, &b) == 0 && S_ISREG(a.st_mode) &&
           (a.st_mtim.tv_sec > b.st_mtim.tv_sec ||
            (a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec >= b.st_mtim.tv_nsec));
}

/* Make download.mp4 in the folder of media version `version` of update
 * id from rung (and the audio, if any) unless a fresh one is there: 0, or
 * the status of the error answered. */
static int make_download(struct req *r, struct resp *o, int64_t id, int version, const char *rung)
{
    char dir[LAYOUT_PATH_MAX], video[LAYOUT_PATH_MAX + 64], audio[LAYOUT_PATH_MAX + 32];
    char out[LAYOUT_PATH_MAX + 32], tmp[LAYOUT_PATH_MAX + 64], rnd[24], err[300];
    int ret;

    if (layout_version_media(r->conf->data_dir, id, version, dir, sizeof(dir)) < 0)
        return http_error(o, 404, "not_found", "there is no such file");
    snprintf(video, sizeof(video), "%s/%s/index.m3u8", dir, rung);
    snprintf(audio, sizeof(audio), "%s/audio/index.m3u8", dir);
    snprintf(out, sizeof(out), "%s/" DOWNLOAD_FILE, dir);
    if (fresh(out, video))
        return 0;
    hc_random_token(rnd, sizeof(rnd), 8);
    snprintf(tmp, sizeof(tmp), "%s.tmp-%s", out, rnd);
    ret = tc_remux_mp4(video, access(audio, R_OK) == 0 ? audio : NULL, tmp, err, sizeof(err));
    if (ret == 0 && rename(tmp, out) == 0)
        return 0;
    if (ret == 0)
        ret = -errno;   /* the rename's, in the same negative-errno form as AVERROR() */
    unlink(tmp);
    hc_log("media: no download of update %lld: %s", (long long)id, err[0] ? err : strerror(-ret));
    if (ret == -ENOSPC)   /* AVERROR(ENOSPC) is -ENOSPC too */
        return http_error(o, 507, "storage_full", "the server's disk is full; try again later");
    return http_error(o, 500, "download_failed", "the video could not be made into one file");
}

/* The download from an S3 media store (media_s3_download). */
static int download_from_store(struct req *r, struct resp *o, const struct db_update *u, const char *version,
                               const char *rung)
{
    char okey[400], name[128];
    int st;

    if (media_s3_download(r->conf, u->id, version, rung, okey, sizeof(okey)) < 0)
        return http_error(o, 500, "download_failed", "the video could not be made into one file");
    st = media_s3_send(r, o, okey, "video/mp4", "private, no-cache", 0);
    if (st / 100 == 2) {
        media_download_name(u->title, u->id, "mp4", name, sizeof(name));
        attachment(o, name);
    }
    return st;
}

static int h_download(struct req *r, struct resp *o)
{
    struct db_rendition *rend = NULL;
    struct db_update u;
    struct db_media m;
    char rel[600], name[128], file[64], dir[32];
    size_t n = 0;
    int st, rc;

    if ((st = load_own(r, o, &u)))
        return st;
    if (strcmp(u.status, "ready")) {
        db_update_free(&u);
        return http_error(o, 409, "not_ready", "this video is still being processed");
    }
    if ((rc = db_rendition_list(r->cat, u.id, &rend, &n)) < 0 || n == 0) {
        db_update_free(&u);
        free(rend);
        return rc < 0 ? api_db_fail(o, rc, "reading the renditions")
                      : http_error(o, 404, "not_found", "this video has no rendition to download");
    }
    if ((rc = db_update_media_state(r->cat, u.id, &m)) < 0) {
        db_update_free(&u);
        free(rend);
        return api_db_fail(o, rc, "reading the update");
    }
    /* The version served: a trim is in the download as in the player. */
    layout_version_name(m.version, dir, sizeof(dir));
    if (store_is_s3()) {
        st = download_from_store(r, o, &u, dir, rend[0].name);
        free(rend);
        db_update_free(&u);
        return st;
    }
    snprintf(file, sizeof(file), "%s%s" DOWNLOAD_FILE, dir, *dir ? "/" : "");
    st = make_download(r, o, u.id, m.version, rend[0].name);
    free(rend);
    if (!st && (st = layout_media_rel(u.id, file, rel, sizeof(rel)) < 0
                          ? http_error(o, 404, "not_found", "there is no such file")
                          : http_send_file(r, o, mediafd, rel, "private, no-cache")) / 100 == 2) {
        media_download_name(u.title, u.id, "mp4", name, sizeof(name));
        attachment(o, name);
    }
    db_update_free(&u);
    return st;
}

const struct route media_routes[] = {
    { "GET", "/media/t/{token}/{id}/{file}", h_media_token, ROLE_ANON,   RF_PREFIX, NULL },
    { "GET", "/media/{id}/{file}",           h_media,       ROLE_MEMBER, RF_PREFIX, NULL },
    { "GET", "/api/updates/{id}/original",   h_original,    ROLE_MEMBER, 0,         NULL },
    { "GET", "/api/updates/{id}/download.mp4", h_download,  ROLE_MEMBER, 0,         NULL },
};
const size_t media_nroutes = HC_ARRAY_LEN(media_routes);
