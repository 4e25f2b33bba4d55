/*
 * fuzz_time.c - libFuzzer target for the ISO 8601 parsers: ISO weeks
 * ("2026-W48"), instants (hc_parse_instant, used by the test clock and
 * hubcast remind), the end of a week in a time zone, and time zone names.
 * The input is split at NUL bytes: week, instant, zone.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isoweek.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-terminated piece of the input, copied; NULL at the end. */
static char *piece(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *q = *p;
    char *s;

    if (q > end)
        return NULL;
    while (q < end && *q)
        q++;
    s = malloc((size_t)(q - *p) + 1);
    if (!s)
        return NULL;
    memcpy(s, *p, (size_t)(q - *p));
    s[q - *p] = '\0';
    *p = q + 1;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *week = piece(&p, end), *instant = piece(&p, end), *tz = piece(&p, end);
    char out[64];
    int y, w;
    time_t t;

    if (week && hc_iso_week_parse(week, &y, &w) == 0) {
        if (w < 1 || w > 53)
            abort();
        (void)hc_iso_week_end(week, "UTC");
        if (tz && hc_tz_valid(tz))
            (void)hc_iso_week_end(week, tz);
    }
    if (instant && hc_parse_instant(instant, &t) == 0) {
        if (hc_iso_week(t, "UTC", out, sizeof(out)) == 0 && hc_iso_week_parse(out, &y, &w) != 0)
            abort();    /* a week we print must parse back */
        if (tz && hc_tz_valid(tz))
            (void)hc_iso_week(t, tz, out, sizeof(out));
    }
    free(week);
    free(instant);
    free(tz);
    return 0;
}
