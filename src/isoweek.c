/*
 * isoweek.c - local time in an arbitrary IANA zone and ISO 8601 weeks.
 * The C library only knows one zone at a time (TZ), so conversions swap it
 * under a lock; nothing else in Hubcast reads local time.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "isoweek.h"
#include "util.h"

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static void tz_enter(const char *tz, char *saved, size_t savedsz, int *had)
{
    const char *old;

    pthread_mutex_lock(&tz_lock);
    old = getenv("TZ");
    *had = old != NULL;
    if (old)
        hc_strlcpy(saved, old, savedsz);
    setenv("TZ", tz && *tz ? tz : "UTC", 1);
    tzset();
}

static void tz_leave(const char *saved, int had)
{
    if (had)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    pthread_mutex_unlock(&tz_lock);
}

int hc_localtime_tz(time_t t, const char *tz, struct tm *out)
{
    char saved[128];
    int had, rc;

    tz_enter(tz, saved, sizeof(saved), &had);
    rc = localtime_r(&t, out) ? 0 : -1;
    tz_leave(saved, had);
    return rc;
}

time_t hc_mktime_tz(struct tm *tm, const char *tz)
{
    char saved[128];
    int had;
    time_t t;

    tz_enter(tz, saved, sizeof(saved), &had);
    tm->tm_isdst = -1;
    t = mktime(tm);
    tz_leave(saved, had);
    return t;
}

int hc_iso_week(time_t t, const char *tz, char *out, size_t outsz)
{
    struct tm tm;

    if (hc_localtime_tz(t, tz, &tm) < 0)
        return -1;
    return strftime(out, outsz, "%G-W%V", &tm) > 0 ? 0 : -1;
}

static int weeks_in_year(int year)
{
    /* A year has 53 ISO weeks when Dec 28 falls in week 53. */
    struct tm tm;
    char buf[8];

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = 11;
    tm.tm_mday = 28;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%V", &tm);
    return (int)strtol(buf, NULL, 10);
}

int hc_iso_week_parse(const char *s, int *year, int *week)
{
    int y, w, n = 0;

    if (!s || strlen(s) != 8 || sscanf(s, "%4d-W%2d%n", &y, &w, &n) != 2 || n != 8)
        return -1;
    if (y < 1970 || y > 9999 || w < 1 || w > weeks_in_year(y))
        return -1;
    if (year)
        *year = y;
    if (week)
        *week = w;
    return 0;
}

time_t hc_iso_week_end(const char *week, const char *tz)
{
    struct tm tm;
    int y, w, wd;
    time_t jan4;

    if (hc_iso_week_parse(week, &y, &w) < 0)
        return (time_t)-1;
    /* January 4 is always in week 1; its Monday starts week 1. */
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mday = 4;
    tm.tm_hour = 12;
    jan4 = timegm(&tm);
    gmtime_r(&jan4, &tm);
    wd = tm.tm_wday == 0 ? 7 : tm.tm_wday;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mday = 4 - (wd - 1) + 7 * w;    /* normalised by mktime */
    return hc_mktime_tz(&tm, tz);
}

int hc_tz_valid(const char *tz)
{
    char path[512];
    struct stat st;

    if (!tz || !*tz || strlen(tz) > 64 || tz[0] == '/' || strstr(tz, ".."))
        return 0;
    for (const char *p = tz; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' || *p == '+'))
            return 0;
    if (!strcmp(tz, "UTC"))
        return 1;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}
