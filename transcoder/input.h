/*
 * input.h - the one way the transcoder reads media: read a stored file,
 * given as an already-open descriptor, under the safe-input rules (demuxer
 * allowlist, no nested opens, probe caps, deadline), sniff it, probe it and
 * check it against the limits. libavformat never sees a path: the bytes
 * come through our own AVIOContext over the descriptor, which is also where
 * a growing upload will be followed. Everything downstream reads packets
 * through tc_input_read() only. Not for decoding.
 */
#ifndef HUBCAST_TC_INPUT_H
#define HUBCAST_TC_INPUT_H

#include <libavformat/avformat.h>

#include "transcode.h"

/* An opened, probed and accepted input. */
struct tc_input {
    AVFormatContext *fmt;       /* demuxer; pb below is ours, not its */
    AVIOContext     *pb;        /* reads fd, ours */
    int              fd;        /* the stored file */
    int              own_fd;    /* close fd with the input */
    int64_t          pos;       /* read position in fd */
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
 * Read the file open as fd (read from offset 0 with pread; the descriptor
 * stays the caller's) under the rules and limits lim. On success returns 0
 * and *out owns everything else (free with tc_input_close). On failure
 * returns a negative AVERROR, writes a sentence for a person into err and
 * *out stays NULL.
 */
int tc_input_open_fd(int fd, const struct tc_limits *lim, int64_t deadline_us,
                     struct tc_input **out, char *err, size_t errsz);

/* The same for the file at path, which this opens (and closes with *out). */
int tc_input_open(const char *path, const struct tc_limits *lim,
                  int64_t deadline_us, struct tc_input **out,
                  char *err, size_t errsz);

/* Next packet, as av_read_frame(): 0, AVERROR_EOF or another AVERROR. */
int tc_input_read(struct tc_input *in, AVPacket *pkt);

/* Close and free *in; sets *in to NULL. Safe on NULL. */
void tc_input_close(struct tc_input **in);

/* The limits used when the caller leaves a field at 0. */
void tc_limits_default(struct tc_limits *lim);

#endif
