/*
 * ladder.c - which rungs to encode and with which rate caps and level.
 * Pure arithmetic on sizes and rates; see ladder.h. Not for encoding.
 */
#include "ladder.h"

#include <math.h>
#include <stdio.h>

/* Short sides of the standard rungs, largest first. */
static const int ladder_sides[TC_MAX_RUNGS] = { 1080, 720, 480, 360 };

/* H.264 Table A-1 limits (High profile bit rate = 1.25 x the Main one). */
struct h264_level {
    int    idc;      /* level_idc */
    long   mbps;     /* max macroblocks per second */
    long   fs;       /* max frame size in macroblocks */
    long   br_kbps;  /* max bit rate for High, kbit/s */
};

static const struct h264_level h264_levels[] = {
    { 30,  40500,  1620,  12500 },
    { 31, 108000,  3600,  17500 },
    { 32, 216000,  5120,  25000 },
    { 40, 245760,  8192,  25000 },
    { 41, 245760,  8192,  62500 },
    { 42, 522240,  8704,  62500 },
    { 50, 589824, 22080, 168750 },
    { 51, 983040, 36864, 300000 },
};

/* Bits per pixel (per frame) allowed as maxrate, by the rung's short side. */
static double ladder_bpp(int short_side)
{
    if (short_side >= 1080)
        return 0.085;
    if (short_side >= 720)
        return 0.10;
    if (short_side >= 480)
        return 0.12;
    return 0.14;
}

/* Round to the nearest even integer, at least 2. */
static int even_round(double v)
{
    int e = (int)lround(v / 2.0) * 2;
    return e < 2 ? 2 : e;
}

int tc_h264_level(int width, int height, double fps, int maxrate)
{
    long mbs = (long)((width + 15) / 16) * ((height + 15) / 16);
    double mbps = mbs * (fps > 0 ? fps : 30.0);
    size_t i;

    for (i = 0; i < sizeof(h264_levels) / sizeof(h264_levels[0]); i++) {
        const struct h264_level *l = &h264_levels[i];
        if (mbs <= l->fs && mbps <= l->mbps &&
            maxrate / 1000 <= l->br_kbps)
            return l->idc;
    }
    return 52;
}

/* Fill the rate caps, level and name of a rung whose size is set. */
static void ladder_finish(struct tc_ladder_rung *r, double fps)
{
    double f = fps > 0 ? fps : 30.0;
    /* above 30 fps each extra frame costs about half as much */
    double feff = f <= 30.0 ? f : 30.0 + (f - 30.0) / 2.0;
    double rate = ladder_bpp(r->short_side) * r->width * r->height * feff;

    if (rate < 200000)
        rate = 200000;
    r->maxrate = (int)rate;
    r->bufsize = 2 * r->maxrate;
    r->level = tc_h264_level(r->width, r->height, f, r->maxrate);
    snprintf(r->name, sizeof(r->name), "%dp", r->short_side);
}

int tc_ladder_choose(int src_w, int src_h, double fps,
                     struct tc_ladder_rung out[TC_MAX_RUNGS])
{
    int portrait = src_h > src_w;
    int sshort = portrait ? src_w : src_h;
    int slong = portrait ? src_h : src_w;
    int n = 0, i;

    if (src_w <= 0 || src_h <= 0)
        return -1;
    if (sshort < ladder_sides[TC_MAX_RUNGS - 1]) {
        struct tc_ladder_rung *r = &out[0];
        int w = src_w & ~1, h = src_h & ~1;
        r->width = w < 2 ? 2 : w;
        r->height = h < 2 ? 2 : h;
        r->short_side = r->width < r->height ? r->width : r->height;
        ladder_finish(r, fps);
        return 1;
    }
    for (i = 0; i < TC_MAX_RUNGS; i++) {
        struct tc_ladder_rung *r = &out[n];
        int s = ladder_sides[i];
        int l;

        if (s > sshort)
            continue;
        l = even_round((double)slong * s / sshort);
        if (l > (slong & ~1))
            l = slong & ~1;
        r->width = portrait ? s : l;
        r->height = portrait ? l : s;
        r->short_side = s;
        ladder_finish(r, fps);
        n++;
    }
    return n;
}
