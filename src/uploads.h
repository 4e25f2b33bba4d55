/*
 * uploads.h - getting a video in: tus 1.0.0 resumable uploads and the
 * one-request upload for scripts. A finished upload becomes an update and
 * a transcode job in one transaction.
 */
#ifndef HUBCAST_UPLOADS_H
#define HUBCAST_UPLOADS_H

#include <stddef.h>
#include <stdint.h>
#include "router.h"

struct catalog;
struct conf;

extern const struct route upload_routes[];
extern const size_t upload_nroutes;

/* Parse a tus Upload-Metadata header into a JSON object of strings.
 * Returns NULL (and sets *why) if it is malformed. */
#include <jansson.h>
json_t *tus_parse_metadata(const char *header, const char **why);

#endif
