/*
 * media_s3.h - media answered from an S3 media store once access is
 * checked (media.c): streamed through the server, or a redirect to a
 * presigned URL.
 */
#ifndef HUBCAST_MEDIA_S3_H
#define HUBCAST_MEDIA_S3_H

#include <stddef.h>

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

#endif
