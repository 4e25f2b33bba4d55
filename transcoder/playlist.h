/*
 * playlist.h - the text side of HLS: measuring a media playlist written by
 * the hls muxer (segment durations and sizes), writing the master playlist,
 * and the RFC 6381 CODECS string of an H.264 stream. Pure functions over
 * strings and byte buffers; file access goes through a callback so that the
 * unit tests need no files. Not for muxing.
 */
#ifndef HUBCAST_TC_PLAYLIST_H
#define HUBCAST_TC_PLAYLIST_H

#include <stddef.h>
#include <stdint.h>

#include "transcode.h"

/* What a media playlist says about its segments. */
struct tc_playlist_stats {
    int     segments;       /* number of media segments (EXTINF entries) */
    double  duration;       /* sum of EXTINF durations, seconds */
    double  max_extinf;     /* longest segment, seconds */
    int64_t bytes;          /* sum of segment sizes (init segment excluded) */
    double  peak_bps;       /* max over segments of bytes*8/duration */
    double  avg_bps;        /* bytes*8/duration over the whole playlist */
};

/* Looks up the size in bytes of a segment URI; returns 0 or negative. */
typedef int (*tc_size_fn)(void *opaque, const char *uri, int64_t *bytes);

/*
 * Measure the media playlist in text (NUL-terminated). Each segment's size
 * comes from size_of. Returns 0, or -1 when the text is not a media playlist
 * or a size is unknown; *st is zeroed first either way.
 */
int tc_playlist_measure(const char *text, tc_size_fn size_of, void *opaque,
                        struct tc_playlist_stats *st);

/* One variant of the master playlist. */
struct tc_master_variant {
    const struct tc_rung *rung;  /* size, bandwidths, codecs, name */
    double                fps;   /* written with 3 decimals */
};

/*
 * Write the master playlist for n variants into buf (size bufsz), NUL
 * terminated. With audio_uri non-NULL, an EXT-X-MEDIA audio rendition is
 * declared and every variant refers to it. Returns the length written, or
 * -1 when buf is too small (buf then holds a truncated string).
 */
int tc_master_format(char *buf, size_t bufsz,
                     const struct tc_master_variant *v, int n,
                     const char *audio_uri);

/*
 * "avc1.PPCCLL" from H.264 extradata, either avcC (first byte 1) or Annex B
 * with an SPS. Returns 0, or -1 when no SPS is found (out then "").
 */
int tc_codecs_avc1(const uint8_t *extra, size_t size, char *out,
                   size_t outsz);

#endif
