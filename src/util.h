/*
 * util.h - small helpers shared by the whole binary: logging, bounded
 * strings, number parsing, clocks, random tokens and their hashes.
 */
#ifndef HUBCAST_UTIL_H
#define HUBCAST_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void hc_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *hc_malloc(size_t n);
void *hc_calloc(size_t n, size_t sz);
void *hc_realloc(void *p, size_t n);
char *hc_strdup(const char *s);

/* Copy at most dstsize-1 bytes and always terminate; returns strlen(src). */
size_t hc_strlcpy(char *dst, const char *src, size_t dstsize);

/* Strict integer parsing: the whole string, in range. 0 on success. */
int hc_parse_long(const char *s, long min, long max, long *out);
/* A span "START:END" in seconds (decimals allowed, END 0 = to the end):
 * 0 with *start and *end, or -1 (unchanged) unless 0 <= START and
 * (END = 0 or START < END <= 86400). */
int hc_parse_span(const char *s, double *start, double *end);
int hc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Sizes like "4G", "512M", "64k" or plain bytes. */
int hc_parse_size(const char *s, int64_t *out);

/* "2026-10-22T08:00:00Z", "...T10:00:00.5+02:00" or "...T08:00Z". 0 on success. */
int hc_parse_instant(const char *s, time_t *out);

/* The one clock. With --test-clock, HUBCAST_FAKE_NOW sets where it starts. */
void hc_clock_init(int test_clock);
time_t hc_now(void);
double hc_monotonic(void);
/*
 * Wait on cond (mutex held, as pthread_cond_timedwait wants) for at most
 * `seconds`. The one place that reads CLOCK_REALTIME, which the deadline of
 * pthread_cond_timedwait is measured on; it decides nothing else. Decisions
 * read hc_now(). Returns what pthread_cond_timedwait returns.
 */
int hc_cond_wait_seconds(pthread_cond_t *cond, pthread_mutex_t *mutex, int seconds);

/* Random bytes as base64url (no padding); out must hold 4*n/3+4 bytes. */
void hc_random_token(char *out, size_t outsz, size_t nbytes);
/* BLAKE2b-256 of a token, as the 32 raw bytes stored in the catalog. */
void hc_token_hash(const char *token, unsigned char out[32]);
/* Constant-time string comparison. */
int hc_streq_ct(const char *a, const char *b);

/* mkdir -p with mode 0700 for the last component. */
int hc_mkdirs(const char *path, int mode);
/* rm -rf of a folder we own (does not follow symlinks). */
int hc_rmtree(const char *path);

/* Does s hold a CR or LF? (header injection guard) */
int hc_has_crlf(const char *s);

#endif
