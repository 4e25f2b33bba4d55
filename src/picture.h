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

/*
 * How an upload becomes the stored picture: decode in_fd (the upload,
 * read-only) and write the 256x256 JPEG into the folder work_fd. 0, or -1
 * with err filled for a person (why the picture was refused), or -2 when
 * it could not run at all. `hubcast serve` installs jc_run_avatar (a
 * confined job child); without a converter a picture upload answers 503.
 */
struct conf;
typedef int (*picture_convert_fn)(const struct conf *conf, int in_fd, int work_fd, char *err, size_t errsz);
void picture_set_converter(picture_convert_fn fn);

extern const struct route picture_routes[];
extern const size_t picture_nroutes;

/* The person JSON's avatar_url for a stored file name: a string, or JSON
 * null when name is "" (no picture). */
json_t *picture_url_json(const char *name);

#endif
