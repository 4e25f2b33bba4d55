/*
 * media.c - /media/{id}/{file} for signed-in members and
 * /media/t/{token}/{id}/{file} for players and share links. The token sits
 * in the path, so the relative URIs inside playlists carry it to every
 * segment without rewriting a playlist. A token signs the update's id, its
 * random nonce and an expiry: it names that one update, never a later one
 * with the same id. Files are opened below DATA/media one component at a
 * time, refusing dot names and symlinks.
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "api.h"
#include "catalog.h"
#include "conf.h"
#include "db_settings.h"
#include "db_updates.h"
#include "http.h"
#include "layout.h"
#include "media.h"
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
    if (catalog_path(conf->data_dir, path, sizeof(path)) == 0 &&
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
    long long exp = ((long long)time(NULL) + ttl) / 600 * 600 + 600;

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
    if (hc_parse_i64(expstr, 0, INT64_MAX, &exp) < 0 || exp < (int64_t)time(NULL))
        return 0;
    sign(id, nonce, (long long)exp, want, sizeof(want));
    return hc_streq_ct(tok, want);
}

/* The published update id names, with its nonce: 0, or the status of the
 * error answered (404 for no such ready update, 503/507 for the catalog). */
static int lookup(struct req *r, struct resp *o, const char *idstr, int64_t *id, char nonce[DB_NONCE_SIZE])
{
    int rc;

    if (hc_parse_i64(idstr, 1, INT64_MAX, id) < 0 || mediafd < 0)
        return http_error(o, 404, "not_found", "there is no such file");
    rc = db_update_media(r->cat, *id, nonce);
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "this video is not ready");
    if (rc < 0)
        return api_db_fail(o, rc, "looking up a video");
    return 0;
}

static int serve(struct req *r, struct resp *o, int64_t id, const char *file)
{
    char rel[600];
    const char *dot;

    if (layout_media_rel(id, file, rel, sizeof(rel)) < 0)
        return http_error(o, 404, "not_found", "there is no such file");
    dot = strrchr(file, '.');
    return http_send_file(r, o, mediafd, rel,
                          dot && !strcmp(dot, ".m3u8") ? "private, no-cache"
                                                       : "private, max-age=31536000, immutable");
}

static int h_media(struct req *r, struct resp *o)
{
    char nonce[DB_NONCE_SIZE];
    int64_t id;
    int st;

    if ((st = lookup(r, o, r->match.params[0], &id, nonce)))
        return st;
    return serve(r, o, id, r->match.params[1]);
}

static int h_media_token(struct req *r, struct resp *o)
{
    char nonce[DB_NONCE_SIZE];
    int64_t id;
    int st;

    if ((st = lookup(r, o, r->match.params[1], &id, nonce)))
        return st;
    /* A signed-in member may fetch it without a valid token. */
    if (!verify(r->match.params[0], id, nonce) && !r->authed)
        return http_error(o, 401, "unauthenticated", "this link has expired; reload the page");
    return serve(r, o, id, r->match.params[2]);
}

const struct route media_routes[] = {
    { "GET", "/media/t/{token}/{id}/{file}", h_media_token, ROLE_ANON,   RF_PREFIX, NULL },
    { "GET", "/media/{id}/{file}",           h_media,       ROLE_MEMBER, RF_PREFIX, NULL },
};
const size_t media_nroutes = HC_ARRAY_LEN(media_routes);
