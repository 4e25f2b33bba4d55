/*
 * segment.h - a growing HLS fMP4 rendition written relative to a folder
 * descriptor: init.mp4, then seg_NNNNN.m4s cut where the caller says, and
 * an EVENT playlist (index.m3u8) rewritten by rename after each segment,
 * closed with ENDLIST. One stream per rendition, packets already encoded
 * (or copied). Used by the first-playable pass. Not for choosing where to
 * cut or for encoding.
 */
#ifndef HUBCAST_TC_SEGMENT_H
#define HUBCAST_TC_SEGMENT_H

#include <stddef.h>

#include <libavformat/avformat.h>

/* One rendition being written. */
struct tc_segwriter {
    int              dirfd;      /* the folder above the rendition's, the
                                    caller's: every name is opened
                                    relative to it (a job child may open
                                    only below its work folder's fd) */
    char             sub[32];    /* the rendition's folder below dirfd */
    AVFormatContext *mux;        /* mp4 muxer, fragmented, pb below */
    AVIOContext     *pb;         /* writes to fd, discards when fd < 0 */
    int              fd;         /* file being written, -1 = none */
    int              werr;       /* errno of the first failed write */
    AVRational       tb;         /* time base of the packets given */
    double          *durs;       /* EXTINF of each listed segment */
    double           listed;     /* their sum, seconds */
    int              nsegs, cap; /* listed segments, room in durs */
    int64_t          seg_start;  /* pts opening the current segment, in
                                    tb; AV_NOPTS_VALUE: none open */
    int64_t          seg_end;    /* largest pts + duration seen, in tb */
    int64_t          seg_bytes;  /* bytes of the current segment */
    int64_t          bytes;      /* bytes of the listed segments */
    int              ended;      /* ENDLIST written */
    int              has_dir;    /* the rendition's folder exists */
    int              header;     /* muxer header written */
};

/*
 * Create the folder name under parent_dirfd, write init.mp4 for a stream
 * described by par whose packets come in time base tb, and an empty EVENT
 * playlist. Returns 0 or a negative AVERROR; on failure *w holds nothing
 * (files already written stay).
 */
int tc_seg_open(struct tc_segwriter *w, int parent_dirfd, const char *name,
                const AVCodecParameters *par, AVRational tb);

/* Seconds from the start of the open segment to pts (tb); 0 when none. */
double tc_seg_open_length(const struct tc_segwriter *w, int64_t pts);

/*
 * Write pkt (timestamps in tb; pkt is not kept). With cut set and a
 * segment open, that segment is closed and listed first, so pkt opens the
 * next one (it must be a keyframe). Returns 0 or a negative AVERROR.
 */
int tc_seg_write(struct tc_segwriter *w, AVPacket *pkt, int cut);

/* Close and list the open segment, then write ENDLIST. 0 or AVERROR. */
int tc_seg_finish(struct tc_segwriter *w);

/* Free everything (no more files written); safe on a zeroed writer. */
void tc_seg_free(struct tc_segwriter *w);

/*
 * The text of an EVENT media playlist with n segments of the given
 * durations (seg_00000.m4s ...), init.mp4 as its map, and ENDLIST when
 * ended. Returns a NUL-terminated string to free with av_free(), or NULL
 * when out of memory.
 */
char *tc_event_playlist(const double *durs, int n, int ended);

/*
 * Replace dirfd/name by data (size n) atomically: write name.tmp, then
 * rename it over name. Returns 0 or -errno (name untouched).
 */
int tc_write_atomic(int dirfd, const char *name, const char *data,
                    size_t n);

#endif
