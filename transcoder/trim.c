/*
 * trim.c - the arithmetic of a trimmed span (see trim.h).
 */
#include "trim.h"

#include <math.h>

int tc_trim_active(const struct tc_trim *t)
{
    return t->start > 0 || t->end > 0;
}

int tc_trim_video(const struct tc_trim *t, double sec, double fps)
{
    double half = fps > 0 ? 0.5 / fps : 1.0 / 60;

    if (t->end > 0 && sec >= t->end - half)
        return 1;
    if (sec < t->start - half)
        return -1;
    return 0;
}

int tc_trim_audio(const struct tc_trim *t, double sec, int n, int rate,
                  int *skip, int *keep)
{
    double first = sec * rate;              /* in samples from 0 */
    double from = t->start * rate, to = t->end > 0 ? t->end * rate : INFINITY;
    long a, b;

    *skip = 0;
    *keep = 0;
    if (n <= 0 || rate <= 0)
        return 0;
    if (first >= to)
        return 1;
    a = first >= from ? 0 : lround(from - first);
    b = first + n <= to ? n : lround(to - first);
    if (a >= n || b <= a)
        return 0;
    *skip = (int)a;
    *keep = (int)(b - a);
    return 0;
}

double tc_trim_length(const struct tc_trim *t, double duration)
{
    double end = t->end > 0 && (duration <= 0 || t->end < duration) ? t->end : duration;
    double len = end - (t->start > 0 ? t->start : 0);

    return end > 0 && len > 0 ? len : 0;
}
