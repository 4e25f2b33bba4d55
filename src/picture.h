/*
 * picture.h - profile pictures: POST and DELETE /api/me/avatar, and the
 * pictures themselves (GET /api/avatars/{name}) for signed-in members.
 * The upload is decoded only by a job child (kind avatar), synchronously
 * for the request. Not for the initials drawn by the web app.
 */
#ifndef HUBCAST_PICTURE_H
#define HUBCAST_PICTURE_H

#include <jansson.h>
#include <stddef.h>

#include "http.h"

#define PICTURE_MAX_BYTES (5 * 1024 * 1024)   /* the largest upload */
#define PICTURE_DEADLINE  10                  /* seconds for the job child */

extern const struct route picture_routes[];
extern const size_t picture_nroutes;

/* The person JSON's avatar_url for a stored file name: a string, or JSON
 * null when name is "" (no picture). */
json_t *picture_url_json(const char *name);

#endif
