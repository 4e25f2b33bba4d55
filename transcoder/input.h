/*
 * input.h - the one way the transcoder reads media: open a stored file under
 * the safe-input rules (demuxer and protocol allowlists, no nested opens,
 * probe caps, deadline), sniff it, probe it and check it against the limits.
 * Everything downstream reads packets through tc_input_read() only; the
 * bytes come through follow.c, which can follow a growing upload. Not for
 * decoding.
 */
#ifndef HUBCAST_TC_INPUT_H
#define HUBCAST_TC_INPUT_H

#include <libavformat/avformat.h>

#include "transcode.h"

/* An opened, probed and accepted input. */
struct tc_input {
    AVFormatContext *fmt;       /* demuxer; pb below is ours, not its */
    AVIOContext     *pb;        /* our reader over fd (follow.c) */
    int              fd;        /* the stored file */
    int              own_fd;    /* fd opened by tc_input_open: close it */
    int              vindex;    /* video stream index */
    int              aindex;    /* audio stream index, -1 when none */
    int              rotation;  /* display rotation: 0, 90, 180 or 270 */
    int              width;     /* displayed size: rotation and SAR applied */
    int              height;
    double           fps;       /* guessed frame rate, 0 when unknown */
    double           duration;  /* seconds, 0 when unknown */
    int64_t          deadline_us; /* av_gettime() deadline, 0 = none */
};

/*
 * Open path under the rules and limits lim. On success returns 0 and *out
 * owns everything (free with tc_input_close). On failure returns a negative
 * AVERROR, writes a sentence for a person into err and *out stays NULL.
 */
int tc_input_open(const char *path, const struct tc_limits *lim,
                  int64_t deadline_us, struct tc_input **out,
                  char *err, size_t errsz);

/*
 * The same over the stored file fd, which stays the caller's (not closed
 * by tc_input_close); follow (may be NULL) makes the input wait for bytes
 * of a file still being written.
 */
int tc_input_open_fd(int fd, const struct tc_follow *follow,
                     const struct tc_limits *lim, int64_t deadline_us,
                     struct tc_input **out, char *err, size_t errsz);

/*
 * A still picture (a profile picture): the same rules for a JPEG or a PNG
 * only. The first bytes must be one of the two signatures, and the one
 * demuxer read is the matching single-picture reader (jpeg_pipe or
 * png_pipe), whose stream must be coded as MJPEG or PNG and be at most
 * max_side pixels on each side. fd stays the caller's. Same returns as
 * tc_input_open.
 */
int tc_image_open_fd(int fd, int max_side, int64_t deadline_us,
                     struct tc_input **out, char *err, size_t errsz);

/* Next packet, as av_read_frame(): 0, AVERROR_EOF or another AVERROR. */
int tc_input_read(struct tc_input *in, AVPacket *pkt);

/* Close and free *in; sets *in to NULL. Safe on NULL. */
void tc_input_close(struct tc_input **in);

/* The limits used when the caller leaves a field at 0. */
void tc_limits_default(struct tc_limits *lim);

/* Fill the zero fields of lim from the defaults. */
void tc_limits_fill(struct tc_limits *lim);

#endif
