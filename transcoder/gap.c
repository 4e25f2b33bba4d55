/*
 * gap.c - the rule for holes in a video's timestamps; see gap.h.
 */
#include "gap.h"

#include <math.h>
#include <stdio.h>

/* seconds as H:MM:SS */
static void hms(char *out, size_t outsz, double seconds)
{
    long long s = seconds > 0 ? (long long)floor(seconds) : 0;

    snprintf(out, outsz, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

int tc_gap_check(double prev, double next, double max_gap, char *err,
                 size_t errsz)
{
    char a[32], b[32];

    if (prev < 0 || !(next - prev > max_gap))
        return 0;
    hms(a, sizeof(a), prev);
    hms(b, sizeof(b), next);
    snprintf(err, errsz, "the video has no picture for %.0f seconds (from %s "
             "to %s); Hubcast fills gaps of at most %.0f seconds",
             floor(next - prev), a, b, max_gap);
    return -1;
}
