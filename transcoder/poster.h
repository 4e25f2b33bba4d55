/*
 * poster.h - the poster (one representative, not-black frame as JPEG) and
 * the storyboard (a sprite JPEG of small thumbnails plus a WebVTT file that
 * points into it), collected from frames as they are decoded. Not for
 * encoding video.
 */
#ifndef HUBCAST_TC_POSTER_H
#define HUBCAST_TC_POSTER_H

#include <libavutil/frame.h>

#define TC_THUMB_WIDTH  160
#define TC_THUMB_MAX    100   /* 10 x 10 grid */
#define TC_POSTER_MAX_W 1280

/* Frames kept for the poster and the storyboard. */
struct tc_thumbs {
    AVFrame *best;          /* poster candidate (a reference) */
    double   best_score;    /* its luma variance */
    double   window;        /* seconds at the start to pick the poster from */
    double   next_cand;     /* time of the next poster candidate */
    AVFrame *thumb[TC_THUMB_MAX];  /* yuvj420p, TC_THUMB_WIDTH wide */
    int      n;             /* thumbs kept */
    double   interval;      /* seconds between thumbs */
    double   next_thumb;    /* time of the next thumb */
    int      tw, th;        /* thumb size */
    struct SwsContext *sws;
};

/* Start collecting for a video of duration seconds (0 = unknown). */
void tc_thumbs_init(struct tc_thumbs *t, double duration);

/* Look at a decoded, filtered yuv420p frame at time t seconds. */
int tc_thumbs_add(struct tc_thumbs *t, const AVFrame *f, double time);

/*
 * Write poster.jpg, storyboard.jpg and storyboard.vtt below the folder
 * dirfd for a video of duration seconds. Returns 0 or a negative AVERROR.
 */
int tc_thumbs_write(struct tc_thumbs *t, int dirfd, double duration);

/* Free everything kept. */
void tc_thumbs_free(struct tc_thumbs *t);

#endif
