/*
 * encode.h - one output of the ladder: an encoder (libx264 for a rung, the
 * native AAC encoder for the audio rendition) feeding libavformat's hls
 * muxer, which writes NAME/index.m3u8, NAME/init.mp4 and
 * NAME/seg_NNNNN.m4s below a work folder held as a descriptor: every file
 * the muxer opens goes through an io_open callback that uses openat(), so
 * no path is handed to libavformat. Not for filtering or for the master
 * playlist.
 */
#ifndef HUBCAST_TC_ENCODE_H
#define HUBCAST_TC_ENCODE_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "ladder.h"

#define TC_SEGMENT_SECONDS 4   /* hls_time */
#define TC_GOP_SECONDS     2   /* closed GOP length, keyframe grid */

/* An encoder and its HLS muxer. */
struct tc_output {
    AVCodecContext  *enc;
    AVFormatContext *mux;
    AVStream        *st;
    AVPacket        *pkt;
    double           next_key;  /* seconds: next point of the keyframe grid */
    const double    *keys;      /* keyframe times instead of the grid, from
                                   the first frame; NULL = the grid */
    int              nkeys, ki; /* their number, the next one */
    double           key_base;  /* time of the first frame, -1 = none yet */
    int64_t          last_pts;  /* last frame pts in enc->time_base */
    int              open;      /* header written, trailer not yet */
    int              dirfd;     /* the work folder (not owned) */
};

/*
 * Open the libx264 encoder of rung r (what tc_output_open_video uses):
 * frames in time base tb at about fps a second, closed GOPs of at most
 * gop_seconds (TC_GOP_SECONDS), rate caps and level of the rung. Returns 0 and *out, or
 * a negative AVERROR with *out NULL.
 */
int tc_encoder_video(AVCodecContext **out, const struct tc_ladder_rung *r,
                     AVRational tb, double fps, const char *preset, int crf,
                     int threads, int global_header, double gop_seconds);

/* Open the AAC-LC 128 kb/s 48 kHz stereo encoder. 0 or a negative AVERROR. */
int tc_encoder_audio(AVCodecContext **out, int global_header);

/*
 * Open a libx264 rung writing into the folder name (which exists) below
 * the folder dirfd: frames arrive in time base tb at about fps frames a
 * second. Returns 0 or a negative AVERROR; on failure *o holds nothing.
 */
int tc_output_open_video(struct tc_output *o, int dirfd, const char *name,
                         const struct tc_ladder_rung *r, AVRational tb,
                         double fps, const char *preset, int crf,
                         int threads, double gop_seconds);

/* Open the AAC-LC 128 kb/s 48 kHz stereo audio rendition in the folder
 * name below dirfd. */
int tc_output_open_audio(struct tc_output *o, int dirfd, const char *name);

/*
 * Encode frame (NULL flushes the encoder) and mux what comes out. Video
 * frames on the 2 s grid (or at o->keys) are forced to be keyframes. Returns 0 or an
 * AVERROR.
 */
int tc_output_send(struct tc_output *o, AVFrame *frame);

/* Flush the encoder and write the trailer (playlist end). */
int tc_output_finish(struct tc_output *o);

/*
 * Free everything; safe on a zeroed or half-opened output. An output that
 * was not finished gets its trailer written first (the hls muxer frees its
 * segment buffers there); callers remove the files of failed jobs.
 */
void tc_output_free(struct tc_output *o);

#endif
