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
 * Read the first rendition in the folder open as dirfd (master.m3u8 with
 * TC_REUSE_TAG, an ended video/index.m3u8), by names relative to it only
 * (a job child may read nothing else). Returns 0 with *r filled (free
 * with tc_reuse_free), or -1 when it cannot be reused (*r then holds
 * nothing).
 */
int tc_reuse_load(int dirfd, struct tc_reuse *r);

/*
 * What the folder open as dirfd holds so far: 1 a copied first rendition
 * (its master playlist has TC_REUSE_TAG; it may still be growing), 0 an
 * encoded one, -1 none yet (no master playlist).
 */
int tc_reuse_kind(int dirfd);

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
