/*
 * ladder.h - choice of the HLS ladder (which sizes to encode) and of the
 * H.264 rate caps and level for each rung. Pure functions: no libav, no I/O,
 * so they are unit-tested directly. Not for encoding anything.
 */
#ifndef HUBCAST_TC_LADDER_H
#define HUBCAST_TC_LADDER_H

#include "transcode.h"

/* One planned rung: the size to scale to and the x264 caps to use. */
struct tc_ladder_rung {
    int  width, height;   /* even, aspect ratio of the source kept */
    int  short_side;      /* min(width, height): what the name says */
    int  maxrate;         /* bits/s, from the bits-per-pixel table */
    int  bufsize;         /* bits, VBV buffer (2 x maxrate) */
    int  level;           /* H.264 level_idc, e.g. 31 for 3.1 */
    char name[16];        /* "720p": the folder and playlist name */
};

/*
 * Choose the rungs for a displayed source of src_w x src_h at fps frames a
 * second (already capped, e.g. at 60). Rungs are the short sides 1080, 720,
 * 480 and 360 that do not exceed the source, largest first; a source whose
 * short side is below 360 gets a single rung at its own (even) size.
 * Returns the number of rungs written to out (1..TC_MAX_RUNGS), or -1 when
 * the size is not usable (zero or negative).
 */
int tc_ladder_choose(int src_w, int src_h, double fps,
                     struct tc_ladder_rung out[TC_MAX_RUNGS]);

/*
 * The lowest H.264 level (level_idc, e.g. 40) whose frame size, macroblock
 * rate and High-profile bit rate limits admit width x height at fps and
 * maxrate bits/s. Returns 52 when nothing smaller fits.
 */
int tc_h264_level(int width, int height, double fps, int maxrate);

#endif
