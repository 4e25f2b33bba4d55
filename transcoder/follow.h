/*
 * follow.h - the transcoder's own AVIOContext over a file descriptor of a
 * stored file. It reads only bytes the caller has confirmed (for a tus
 * upload: its offset), waits when the demuxer catches up with an upload
 * still arriving, and gives up when the interrupt callback says so
 * (deadline) or the caller says the upload is gone. A complete file is the
 * same thing with a length that is final from the start. Not for deciding
 * what to read: input.c applies the safe-input rules on top.
 */
#ifndef HUBCAST_TC_FOLLOW_H
#define HUBCAST_TC_FOLLOW_H

#include <libavformat/avio.h>

#include "transcode.h"

/*
 * Wrap fd (not taken over: the caller closes it) in an AVIOContext that
 * reads with pread() and seeks within the confirmed length. follow may be
 * NULL (a complete file: its size now is final). icb is checked while
 * waiting for bytes. Returns 0 and *pb, or a negative AVERROR with *pb NULL.
 */
int tc_reader_open(int fd, const struct tc_follow *follow,
                   const AVIOInterruptCB *icb, AVIOContext **pb);

/* 1 while the file may still grow (its length is not final yet), else 0. */
int tc_reader_growing(const AVIOContext *pb);

/* 1 when the caller said the upload is gone. */
int tc_reader_gone(const AVIOContext *pb);

/* Seconds spent so far waiting for bytes not confirmed yet (an upload
 * still arriving): not work, for whoever measures its own pace. */
double tc_reader_waited(const AVIOContext *pb);

/* Free *pb and its state (the fd stays open); sets *pb to NULL. */
void tc_reader_close(AVIOContext **pb);

#endif
