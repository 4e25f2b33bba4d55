/*
 * reuse.h - the ladder taking over a first rendition as its top rung: one
 * made by copying the recording's own H.264 (remux), or one the pass
 * encoded at the top rung's size with the ladder's own x264 preset and
 * CRF. Its video becomes the top rung (files hard-linked, playlist made
 * VOD), and the other rungs put their keyframes at its segment starts
 * instead of the 2 s grid. Plain POSIX and text, no libav. Not for
 * deciding how the pass makes its rendition (first.c does).
 */
#ifndef HUBCAST_TC_REUSE_H
#define HUBCAST_TC_REUSE_H

/* In the master playlist of a first rendition the ladder may take over:
 * TC_REUSE_DATA, then VALUE "remux" (a copy) or "x264 PRESET crf N" (an
 * encode at the top rung's size with that preset and CRF), '"', newline. */
#define TC_REUSE_DATA "#EXT-X-SESSION-DATA:DATA-ID=\"net.hubcast.first\",VALUE=\""
#define TC_REUSE_TAG TC_REUSE_DATA "remux\"\n"  /* in a copied first master */

/* What the ladder takes from the first rendition. */
struct tc_reuse {
    double *keys;          /* segment start times, keys[0] = 0, seconds */
    int     nkeys;
    int     width, height; /* RESOLUTION of its master */
    char    codecs[32];    /* video CODECS, e.g. "avc1.64001f" */
    char    how[48];       /* its VALUE: "remux", "x264 veryfast crf 23" */
    double  fps;           /* FRAME-RATE of its master, 0 = not stated */
};

/*
 * Read the first rendition in the folder open as dirfd (master.m3u8 with
 * TC_REUSE_DATA, an ended video/index.m3u8), by names relative to it only
 * (a job child may read nothing else). Returns 0 with *r filled (free
 * with tc_reuse_free), or -1 when it cannot be reused (*r then holds
 * nothing).
 */
int tc_reuse_load(int dirfd, struct tc_reuse *r);

/*
 * What the folder open as dirfd holds so far: 1 a copied first rendition
 * (its master playlist has TC_REUSE_TAG; it may still be growing), 2 one
 * encoded at the ladder's settings (TC_REUSE_DATA with another VALUE), 0
 * another encode, -1 none yet (no master playlist).
 */
int tc_reuse_kind(int dirfd);

/* tc_reuse_kind of a master playlist's text. */
int tc_reuse_kind_text(const char *master);

/*
 * 1 when what the first rendition r says of itself (its VALUE, and its
 * frame rate when an encode) lets a ladder made with preset, crf and fps
 * take it over: a copy always does; an encode must have been made with
 * the same preset and CRF, at the same frame rate. Its size is the
 * caller's to compare.
 */
int tc_reuse_fits(const struct tc_reuse *r, const char *preset, int crf,
                  double fps);

/*
 * Link (or, where linking is not allowed, copy) video/'s init and
 * segments from the folder open as dirfd into the existing folder rung
 * below rung_dirfd, and write rung/index.m3u8 there as a VOD playlist.
 * Returns 0 or -errno; on failure the files already brought stay (the
 * caller removes its work folder).
 */
int tc_reuse_link(int dirfd, int rung_dirfd, const char *rung);

void tc_reuse_free(struct tc_reuse *r);

#endif
