/*
 * trim.h - keeping only a span [start, end) of the input: which decoded
 * video frames fall inside it, and how many samples of an audio frame do.
 * Pure arithmetic, no libav, so that it can be tested alone; the pipeline
 * (transcode.c) drops, cuts and rebases the frames. Not for seeking: the
 * ladder decodes from the start of the file (MediaRecorder WebM has no
 * index to seek with) and drops what comes before the span.
 */
#ifndef HUBCAST_TC_TRIM_H
#define HUBCAST_TC_TRIM_H

/* A span in seconds from the start of the input; end <= 0 means the end
 * of the input. A span with start <= 0 and end <= 0 keeps everything. */
struct tc_trim {
    double start;
    double end;
};

/* 1 when t trims something away. */
int tc_trim_active(const struct tc_trim *t);

/*
 * Where a video frame shown at time sec (seconds from the start of the
 * input) of a stream at fps frames a second stands: -1 before the span
 * (drop it), 0 inside (keep it), 1 at or past its end (drop it and every
 * later one). A frame less than half a frame before start is kept (it is
 * the picture shown at start).
 */
int tc_trim_video(const struct tc_trim *t, double sec, double fps);

/*
 * Of an audio frame of n samples at rate samples a second starting at sec:
 * how many leading samples to drop (*skip) and how many to keep (*keep,
 * 0 when the whole frame is outside the span). Returns 1 when the frame
 * starts at or past the end (nothing later is needed either), else 0.
 */
int tc_trim_audio(const struct tc_trim *t, double sec, int n, int rate,
                  int *skip, int *keep);

/* The length of the span in an input of duration seconds (0 = unknown:
 * then end - start when end is set, else 0). */
double tc_trim_length(const struct tc_trim *t, double duration);

#endif
