/*
 * first.h - the rule that decides how the first-playable pass makes its
 * rendition: copy the recording's own H.264 (remux) or encode one fast
 * rung (progressive). A pure function, so that it is unit-tested; the pass
 * itself is tc_first_playable() in transcode.h.
 */
#ifndef HUBCAST_TC_FIRST_H
#define HUBCAST_TC_FIRST_H

/* What the input says about its video, as far as the rule cares. */
struct tc_copy_probe {
    int    h264;           /* the video is H.264 */
    int    has_extradata;  /* its SPS and PPS known before the first packet
                              (avcC, or Annex B from the stream) */
    int    width, height;  /* coded size */
    int    yuv420p8;       /* 8-bit 4:2:0 */
    int    progressive;    /* not interlaced (or unknown) */
    int    rotation;       /* display rotation, degrees */
    int    square_pixels;  /* sample aspect ratio 1:1 or unknown */
    double fps;            /* frame rate, 0 when unknown (variable) */
    double bps;            /* measured average bits/s of the video */
};

/*
 * NULL when the video may be copied as the first rendition: H.264 with
 * its SPS and PPS known (avcC, or Annex B in-band), at most 1080p
 * (1920x1080 either way round), 8-bit 4:2:0, progressive, upright,
 * square pixels, at most 60 fps and on average within the maxrate of the
 * ladder's top rung for its size. Otherwise a
 * short reason ("not H.264", ...).
 */
const char *tc_first_copy_refusal(const struct tc_copy_probe *p);

/*
 * 1 when encoding the first rendition of a source of this size and frame
 * rate (fps 0: unknown, taken as 30) is expected to be slower than real
 * time on one core, before the pass has measured its own pace: more
 * pixels a second than 1080p30 (larger than 1080p, 4K above all, or more
 * than 30 frames a second at 1080p). The pass is made for up to 1080p30
 * faster than real time; beyond that it says so rather than promise.
 */
int tc_first_expect_slow(int width, int height, double fps);

#endif
