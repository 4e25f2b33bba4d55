/*
 * media.c - /media/{id}/{file} for signed-in members and
 * /media/t/{token}/{id}/{file} for players and share links. The token sits
 * in the path, so the relative URIs inside playlists carry it to every
 * segment without rewriting a playlist. Files are opened below DATA/media
 * one component at a time, refusing dot names and symlinks.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "catalog.h"
#include "conf.h"
#include "http.h"
#include "media.h"
#include "util.h"

static unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
static int mediafd = -1;

int media_init(struct catalog *c, const struct conf *conf)
{
    char path[1100], *b64 = cat_setting(c, "media_secret");
    size_t n = 0;

    if (!b64 || sodium_base642bin(key, sizeof(key), b64, strlen(b64), NULL, &n, NULL,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || n != sizeof(key)) {
        char enc[sodium_base64_ENCODED_LEN(sizeof(key), sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
        crypto_auth_hmacsha256_keygen(key);
        sodium_bin2base64(enc, sizeof(enc), key, sizeof(key), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        if (cat_set_setting(c, "media_secret", enc) < 0) {
            free(b64);
            return -1;
        }
    }
    free(b64);
    snprintf(path, sizeof(path), "%s/media", conf->data_dir);
    hc_mkdirs(path, 0755);
    mediafd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return mediafd < 0 ? -1 : 0;
}

void media_close(void)
{
    if (mediafd >= 0)
        close(mediafd);
    mediafd = -1;
}

static void sign(int64_t id, long long exp, char *out, size_t outsz)
{
    char msg[64];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char enc[64];

    snprintf(msg, sizeof(msg), "%lld:%lld", (long long)id, exp);
    crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg), key);
    sodium_bin2base64(enc, sizeof(enc), mac, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, outsz, "%lld.%s", exp, enc);
}

void media_url_ttl(int64_t update_id, const char *file, int ttl, char *out, size_t outsz)
{
    char tok[96];
    /* Round the expiry so that repeated calls give the same URL for a while
     * and players can cache. */
    long long exp = ((long long)time(NULL) + ttl) / 600 * 600 + 600;

    sign(update_id, exp, tok, sizeof(tok));
    snprintf(out, outsz, "/media/t/%s/%lld/%s", tok, (long long)update_id, file);
}

void media_url(int64_t update_id, const char *file, char *out, size_t outsz)
{
    media_url_ttl(update_id, file, MEDIA_TOKEN_TTL, out, outsz);
}

static int verify(const char *tok, int64_t id)
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
    sign(id, (long long)exp, want, sizeof(want));
    return hc_streq_ct(tok, want);
}

static int serve(struct req *r, struct resp *o, const char *idstr, const char *file)
{
    char rel[600];
    int64_t id;
    const char *dot;
    char *status;

    if (hc_parse_i64(idstr, 1, INT64_MAX, &id) < 0 || mediafd < 0)
        return http_error(o, 404, "not_found", "there is no such file");
    status = cat_text(r->cat, "SELECT status FROM updates WHERE id = ?", "I", id);
    if (!status || strcmp(status, "ready")) {
        free(status);
        return http_error(o, 404, "not_found", "this video is not ready");
    }
    free(status);
    if (snprintf(rel, sizeof(rel), "%lld/%s", (long long)id, file) >= (int)sizeof(rel))
        return http_error(o, 404, "not_found", "there is no such file");
    dot = strrchr(file, '.');
    return http_send_file(r, o, mediafd, rel,
                          dot && !strcmp(dot, ".m3u8") ? "private, no-cache"
                                                       : "private, max-age=31536000, immutable");
}

static int h_media(struct req *r, struct resp *o)
{
    return serve(r, o, r->match.params[0], r->match.params[1]);
}

static int h_media_token(struct req *r, struct resp *o)
{
    int64_t id;

    if (hc_parse_i64(r->match.params[1], 1, INT64_MAX, &id) < 0 || !verify(r->match.params[0], id)) {
        /* A signed-in member may still fetch it. */
        if (!r->authed)
            return http_error(o, 401, "unauthenticated", "this link has expired; reload the page");
    }
    return serve(r, o, r->match.params[1], r->match.params[2]);
}

const struct route media_routes[] = {
    { "GET", "/media/t/{token}/{id}/{file}", h_media_token, ROLE_ANON,   RF_PREFIX, NULL },
    { "GET", "/media/{id}/{file}",           h_media,       ROLE_MEMBER, RF_PREFIX, NULL },
};
const size_t media_nroutes = HC_ARRAY_LEN(media_routes);
