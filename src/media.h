/*
 * media.h - delivery of published HLS folders: access checks (session,
 * Bearer token, or a signed token in the path), sendfile, Range, ETag.
 */
#ifndef HUBCAST_MEDIA_H
#define HUBCAST_MEDIA_H

#include <stddef.h>
#include <stdint.h>
#include "router.h"

struct catalog;
struct conf;

extern const struct route media_routes[];
extern const size_t media_nroutes;

#define MEDIA_TOKEN_TTL (6 * 3600)

/* Load (or create) the signing key and open DATA/media. 0 on success. */
int media_init(struct catalog *c, const struct conf *conf);
void media_close(void);

#define MEDIA_MAIL_TTL  (30 * 24 * 3600)

/* "/media/t/<token>/<id>/<file>" for the update with this nonce (struct
 * db_update), valid for MEDIA_TOKEN_TTL, or for ttl. */
void media_url(int64_t update_id, const char *nonce, const char *file, char *out, size_t outsz);
void media_url_nonce(int64_t update_id, const char *nonce, const char *file, int ttl,
                     char *out, size_t outsz);
/* The same for a caller without the nonce at hand (mail): looked up in the
 * catalog; out is "" when there is no such update. */
void media_url_ttl(int64_t update_id, const char *file, int ttl, char *out, size_t outsz);

/* The file name a download of an update with this title gets: the title
 * made safe for a file name (at most 80 bytes, "update-<id>" if nothing is
 * left) and "." ext. */
void media_download_name(const char *title, int64_t id, const char *ext, char *out, size_t outsz);

#endif
