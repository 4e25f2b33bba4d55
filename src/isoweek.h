/*
 * isoweek.h - ISO 8601 weeks in a person's own time zone, and time zone
 * name validation against the system's zoneinfo.
 */
#ifndef HUBCAST_ISOWEEK_H
#define HUBCAST_ISOWEEK_H

#include <time.h>

/* Broken-down local time of t in the IANA zone tz ("Europe/Paris"). */
int hc_localtime_tz(time_t t, const char *tz, struct tm *out);
/* The instant at which local wall time tm (in zone tz) occurs. */
time_t hc_mktime_tz(struct tm *tm, const char *tz);
/* "2026-W48" for instant t in zone tz. out must hold 16 bytes. */
int hc_iso_week(time_t t, const char *tz, char *out, size_t outsz);
/* Validate "YYYY-Www"; 0 if valid (week 1..53, and 53 only if it exists). */
int hc_iso_week_parse(const char *s, int *year, int *week);
/* Monday 00:00 after ISO week "YYYY-Www" on the clock of zone tz, or -1. */
time_t hc_iso_week_end(const char *week, const char *tz);
/* Is tz a known IANA zone name (and a safe one: no "..", no leading '/')? */
int hc_tz_valid(const char *tz);

#endif
