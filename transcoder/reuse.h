/*
 * reuse.h - the ladder taking over a first rendition made by copying the
 * recording's own H.264 (remux): its video becomes the top rung (files
 * hard-linked, playlist made VOD), and the other rungs put their keyframes
 * at its segment starts instead of the 2 s grid. Plain POSIX and text, no
 * libav. Not for deciding whether to copy (first.c does).
 */
#ifndef HUBCAST_TC_REUSE_H
#define HUBCAST_TC_REUSE_H

#define TC_REUSE_TAG "#EXT-X-SESSION-DATA:DATA-ID=\"net.hubcast.first\"," \
                     "VALUE=\"remux\"\n"  /* in a copied first master */

/* What the ladder takes from the first rendition. */
struct tc_reuse {
    double *keys;          /* segment start times, keys[0] = 0, seconds */
    int     nkeys;
    int     width, height; /* RESOLUTION of its master */
    char    codecs[32];    /* video CODECS, e.g. "avc1.64001f" */
};

/*
 * Read dir (a first rendition: master.m3u8 with TC_REUSE_TAG, an ended
 * video/index.m3u8). Returns 0 with *r filled (free with tc_reuse_free),
 * or -1 when it cannot be reused (*r then holds nothing).
 */
int tc_reuse_load(const char *dir, struct tc_reuse *r);

/*
 * Link (or copy) dir/video's init and segments into the existing folder
 * rung below rung_dirfd and write rung/index.m3u8 there as a VOD
 * playlist. Returns 0 or -errno.
 */
int tc_reuse_link(const char *dir, int rung_dirfd, const char *rung);

void tc_reuse_free(struct tc_reuse *r);

#endif
