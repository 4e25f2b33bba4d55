/*
 * util.c - logging, bounded strings, strict number parsing, the clock,
 * random tokens and file-tree helpers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <pthread.h>
#include <sodium.h>

#include "util.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void hc_log(const char *fmt, ...)
{
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    va_list ap;

    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%s [%d] ", ts, (int)getpid());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_lock);
}

static void oom(void)
{
    fputs("hubcast: out of memory\n", stderr);
    abort();
}

void *hc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *hc_calloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        oom();
    return p;
}

void *hc_realloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *hc_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = hc_malloc(n);
    memcpy(d, s, n);
    return d;
}

size_t hc_strlcpy(char *dst, const char *src, size_t dstsize)
{
    size_t len = strlen(src);
    if (dstsize) {
        size_t n = len < dstsize - 1 ? len : dstsize - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

int hc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int hc_parse_long(const char *s, long min, long max, long *out)
{
    int64_t v;
    if (hc_parse_i64(s, min, max, &v) < 0)
        return -1;
    *out = (long)v;
    return 0;
}

int hc_parse_span(const char *s, double *start, double *end)
{
    char *p, *q;
    double a, b;

    if (!s || !*s)
        return -1;
    errno = 0;
    a = strtod(s, &p);
    if (errno || p == s || *p != ':')
        return -1;
    b = strtod(p + 1, &q);
    if (errno || q == p + 1 || *q || !(a >= 0) || !(b >= 0) || b > 86400 ||
        (b > 0 && b <= a))
        return -1;
    *start = a;
    *end = b;
    return 0;
}

int hc_parse_size(const char *s, int64_t *out)
{
    char *end;
    long long v;
    int64_t mul = 1;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || v < 0 || end == s)
        return -1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': mul = 1024; end++; break;
    case 'm': case 'M': mul = 1024 * 1024; end++; break;
    case 'g': case 'G': mul = 1024LL * 1024 * 1024; end++; break;
    case 't': case 'T': mul = 1024LL * 1024 * 1024 * 1024; end++; break;
    default: return -1;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || v > INT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* The clock: real time shifted by a fixed offset in test mode. */
static time_t clock_offset;

/* "2026-10-22T08:00:00Z", "2026-10-22T10:00:00+02:00" or "2026-10-22T08:00Z". */
/* n decimal digits at *p, advanced past them; -1 if any is not a digit. */
static int digits(const char **p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

int hc_parse_instant(const char *s, time_t *out)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    struct tm tm;
    int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 1;
    const char *p = s;

    /* Exactly YYYY-MM-DDTHH:MM, digits only (no signs, no blanks). */
    if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 0 || *p++ != '-' ||
        (d = digits(&p, 2)) < 0 || *p++ != 'T' || (h = digits(&p, 2)) < 0 || *p++ != ':' ||
        (mi = digits(&p, 2)) < 0)
        return -1;
    if (*p == ':') {
        p++;
        if ((sec = digits(&p, 2)) < 0)
            return -1;
        if (*p == '.')
            while (*++p >= '0' && *p <= '9')
                ;
    }
    if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0 || oh > 23 || om > 59)
            return -1;
    } else if (*p == 'Z') {
        p++;
    }
    /* The years ISO weeks are kept for (hc_iso_week_parse). */
    if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))) ||
        h > 23 || mi > 59 || sec > 60)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = timegm(&tm) - sign * (oh * 3600 + om * 60);
    return 0;
}

void hc_clock_init(int test_clock)
{
    const char *fake = getenv("HUBCAST_FAKE_NOW");

    clock_offset = 0;
    if (test_clock && fake && *fake) {
        time_t t;
        if (hc_parse_instant(fake, &t) < 0) {
            hc_log("HUBCAST_FAKE_NOW=%s is not an ISO 8601 instant; using the real clock", fake);
            return;
        }
        clock_offset = t - time(NULL);
        hc_log("test clock: starting at %s", fake);
    }
}

time_t hc_now(void)
{
    return time(NULL) + clock_offset;
}

double hc_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int hc_cond_wait_seconds(pthread_cond_t *cond, pthread_mutex_t *mutex, int seconds)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    return pthread_cond_timedwait(cond, mutex, &ts);
}

void hc_random_token(char *out, size_t outsz, size_t nbytes)
{
    unsigned char buf[64];

    if (nbytes > sizeof(buf))
        nbytes = sizeof(buf);
    randombytes_buf(buf, nbytes);
    sodium_bin2base64(out, outsz, buf, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(buf, sizeof(buf));
}

void hc_token_hash(const char *token, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

int hc_streq_ct(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return 0;
    return sodium_memcmp(a, b, la) == 0;
}

int hc_mkdirs(const char *path, int mode)
{
    char tmp[PATH_MAX];
    size_t len = hc_strlcpy(tmp, path, sizeof(tmp));

    if (len >= sizeof(tmp))
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, (mode_t)mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int rmtree_at(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d;
    struct dirent *e;

    if (fd < 0)
        return unlinkat(dfd, name, 0);
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        rmtree_at(fd, e->d_name);
    }
    closedir(d);
    return unlinkat(dfd, name, AT_REMOVEDIR);
}

int hc_rmtree(const char *path)
{
    return rmtree_at(AT_FDCWD, path);
}

int hc_has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}
