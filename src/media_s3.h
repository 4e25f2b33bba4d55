/*
 * media_s3.h - media answered from an S3 media store once access is
 * checked (media.c): streamed through the server, or a redirect to a
 * presigned URL.
 */
#ifndef HUBCAST_MEDIA_S3_H
#define HUBCAST_MEDIA_S3_H

#include <stddef.h>
#include <stdint.h>

struct req;
struct resp;

/* 1 when file (a path below an update's media) may be asked of the
 * store: no empty, hidden or dot components, nothing unprintable. */
int media_s3_path_ok(const char *file);

/*
 * Answer with object key of the store: redirect > 0, a 302 to a GET URL
 * presigned for that many seconds; else the object itself (Range, ETag,
 * Last-Modified, 304, 416), of type ctype with cache_control, read from
 * the store while it is sent. 404 when the store has no such object, 503
 * when it cannot be reached. Returns the status.
 */
int media_s3_send(struct req *r, struct resp *o, const char *key, const char *ctype,
                  const char *cache_control, int redirect);

/* The first n bytes of object key into buf: how many, or -1. */
int media_s3_peek(const char *key, void *buf, size_t n);

/*
 * GET /api/updates/{id}/download.mp4 with an S3 store: the MP4 of rung
 * (and the audio) of the media version named `version` ("" or "v2") is
 * the object media/<id>/[version/]download.mp4, made when missing or
 * older than the rung's playlist (fetched into a work folder of the data
 * folder, remuxed, uploaded, the folder removed). 0 with its key, or -1
 * (logged).
 */
struct conf;
int media_s3_download(const struct conf *conf, int64_t id, const char *version, const char *rung,
                      char *key, size_t keysz);

#endif
