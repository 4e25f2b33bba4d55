/*
 * transcode.h - the media pipeline: safe input, probe, HLS ladder, poster,
 * storyboard. The only interface the rest of Hubcast uses; nothing outside
 * transcoder/ includes a libav* header.
 */
#ifndef HUBCAST_TRANSCODE_H
#define HUBCAST_TRANSCODE_H

#include <stdint.h>

#define TC_MAX_RUNGS 4

/* Caps applied to every input before anything is decoded. */
struct tc_limits {
    int     max_side;        /* largest width or height, default 4096 */
    int64_t max_pixels;      /* width * height, default 8912896 (8.9 Mpixel) */
    double  max_duration;    /* seconds, default 7200 */
    double  max_fps;         /* refuse above this (declared rate), default 240 */
    int64_t probe_size;      /* bytes libavformat may read to probe, default 10 MB */
    int     max_streams;     /* default 16 */
};

/*
 * Called now and then while working (at most about 4 times a second);
 * returning non-zero cancels the job. total_seconds is 0 when the input does
 * not say how long it is; eta_seconds is negative when it cannot be told.
 */
typedef int (*tc_progress_fn)(void *opaque, double done_seconds,
                              double total_seconds, double eta_seconds);

struct tc_options {
    const char      *preset;       /* x264 preset, default "veryfast" */
    int              crf;          /* default 23 */
    int              threads;      /* x264 threads per encoder, 0 = auto */
    int64_t          deadline_us;  /* av_gettime() deadline, 0 = none */
    struct tc_limits limits;
    const char      *reuse_first;  /* folder of a first rendition made by
                                      copying (tc_first_playable, remux):
                                      it becomes the top rung, and the
                                      other rungs key at its segment
                                      starts; NULL = encode every rung */
    int              reuse_first_fd; /* or that folder open read-only, when
                                      > 0 (a job child, which may open
                                      nothing by path); used instead of
                                      reuse_first, and not closed */
    double           trim_start;   /* ladder only: seconds from the start
                                      of the input where the output
                                      begins (0 = the start) */
    double           trim_end;     /* ladder only: where it ends, 0 = the
                                      end; the output is the span
                                      [trim_start, trim_end) rebased to 0,
                                      frame-accurate for the video and
                                      sample-accurate for the audio (a
                                      trim ignores reuse_first) */
    tc_progress_fn   progress;
    void            *opaque;
    int            (*first_wait)(void *opaque, int top_rung);
                                   /* first pass only: called once when it
                                      has chosen to encode (not copy;
                                      top_rung 1 when it encodes the
                                      ladder's top rung at its settings),
                                      before it decodes anything; may block
                                      until the pass's turn comes (the
                                      caller caps how many encode at once);
                                      non-zero stops the pass as abandoned.
                                      NULL: encode at once */
    void           (*first_slow)(void *opaque, int slow, double pace);
                                   /* first pass only, when it encodes:
                                      called whenever its verdict changes,
                                      slow = 1 when it is slower than real
                                      time (expected from the source's size
                                      and rate, tc_first_expect_slow, until
                                      it has worked TC_FIRST_PACE_TRUST s,
                                      then measured), 0 when no longer;
                                      pace = seconds of video per second of
                                      work, 0 before it is measured. The
                                      progress eta of the first pass comes
                                      from that pace, time spent waiting
                                      for an upload's bytes not counted.
                                      NULL: nobody asks */
};

struct tc_rung {
    int    width, height;
    int    bandwidth;          /* peak bits/s measured over segments */
    int    avg_bandwidth;      /* average bits/s */
    char   codecs[64];         /* e.g. "avc1.64001f,mp4a.40.2" */
    char   name[16];           /* folder/playlist name, e.g. "720p" */
};

struct tc_result {
    double         duration;      /* seconds */
    double         source_duration; /* seconds of the whole input (a trim
                                       aside), 0 = not known */
    int            width, height; /* displayed source size after rotation */
    double         fps;
    int            has_audio;
    int            nrungs;
    int            reused_first;  /* 1 when rungs[0] is the first rendition
                                     taken over (reuse_first) */
    struct tc_rung rungs[TC_MAX_RUNGS];
    char           error[256];    /* on failure: a sentence a person understands */
};

/*
 * A file still being written (a tus upload in progress). The input reads
 * only bytes the caller has confirmed and waits for more.
 */
enum tc_follow_state {
    TC_FOLLOW_GROWING = 0,   /* more bytes may come */
    TC_FOLLOW_FINISHED = 1,  /* *confirmed is the final length */
    TC_FOLLOW_GONE = 2       /* abandoned: stop, publish nothing more */
};

#define TC_FOLLOW_POLL_MS 20  /* longest wait between two length checks */

/*
 * Set *confirmed to the number of bytes from the start of the file that
 * are written and final (it is never made smaller), and say whether more
 * may come. Called only when the reader has caught up, from the thread
 * running the transcode.
 */
typedef enum tc_follow_state (*tc_length_fn)(void *opaque,
                                             int64_t *confirmed);

struct tc_follow {
    tc_length_fn length;   /* NULL: the file is complete */
    void        *opaque;
    int          wake_fd;  /* readable when the length may have grown
                              (eventfd or pipe, drained by the reader);
                              -1: check every TC_FOLLOW_POLL_MS */
};

/* Fill *opt with the defaults above. */
void tc_options_default(struct tc_options *opt);

/*
 * Transcode in_path into out_dir, which must not exist yet. Everything is
 * written to a work folder next to it and renamed into place at the end,
 * so out_dir appears complete or not at all. Returns 0 on success, a
 * negative value on failure with res->error set.
 */
int tc_transcode(const char *in_path, const char *out_dir,
                 const struct tc_options *opt, struct tc_result *res);

/* How the first-playable pass made the first rendition. */
enum tc_first_mode {
    TC_FIRST_REMUX = 1,       /* H.264 copied, cut at its keyframes */
    TC_FIRST_PROGRESSIVE = 2  /* one fast rung encoded as bytes arrive */
};

/* Called each time a video segment has been listed in the playlists. */
typedef void (*tc_segment_fn)(void *opaque, int segments, double seconds,
                              int playable);

struct tc_first_result {
    enum tc_first_mode mode;
    int     top_rung;        /* progressive, encoded as the ladder's top
                                rung with its preset and CRF (the ladder
                                takes it over, reuse.h) */
    double  duration;        /* seconds listed in the video playlist */
    int     width, height;   /* of the first rendition */
    int     segments;        /* video segments listed */
    int     has_audio;
    double  video_kbps;      /* average rate of the video segments */
    char    codecs[64];      /* CODECS of the master playlist */
    char    error[256];      /* on failure: a sentence a person understands */
};

#define TC_FIRST_PRESET "superfast"  /* x264 preset of the progressive rung,
                                        unless it is the top rung (first.c) */
#define TC_FIRST_MAX_SIDE 720        /* its short side at most */
#define TC_FIRST_PACE_TRUST 5.0      /* seconds of work after which the
                                        measured pace, not the source's
                                        size, says whether it is slow */

/*
 * The first-playable pass: read the stored file in_fd (not closed; it may
 * still be growing when follow is non-NULL) under the safe-input rules and
 * write an HLS fMP4 rendition into the existing, empty folder out_dirfd
 * (not closed): master.m3u8, video/ and audio/ (index.m3u8 as an EVENT
 * playlist that grows segment by segment, then ends with ENDLIST,
 * init.mp4, seg_NNNNN.m4s). Qualifying H.264 is copied; anything else gets
 * one rung of at most 720p with TC_FIRST_PRESET, or, when that rung is the
 * ladder's top rung of at most 720p30 and opt->preset is no slower than
 * veryfast, with opt->preset and opt->crf (the ladder's: it then takes the
 * rendition over, res->top_rung). Playlists are replaced
 * by rename, so a reader never sees half of one; master.m3u8 appears once
 * every playlist lists a segment. opt->progress, deadline and limits
 * apply; on_segment may be
 * NULL. Returns 0, or a negative value with res->error set; on failure
 * what was written stays (the caller removes the folder) and no playlist
 * gets ENDLIST.
 */
int tc_first_playable(int in_fd, const struct tc_follow *follow,
                      int out_dirfd, const struct tc_options *opt,
                      tc_segment_fn on_segment, void *opaque,
                      struct tc_first_result *res);

/*
 * The pipeline over descriptors, for a process that holds no paths: read
 * the stored file open as in_fd (from offset 0, with pread) and write the
 * finished ladder (master.m3u8, a folder per rung, audio/, poster and
 * storyboard) into the empty folder open as work_fd, using only openat()
 * and mkdirat() below it. Publishing the folder is the caller's. Returns 0
 * on success, a negative value on failure with res->error set; files of a
 * failed attempt may remain in the folder. Neither descriptor is closed.
 */
int tc_transcode_fd(int in_fd, int work_fd, const struct tc_options *opt,
                    struct tc_result *res);

/*
 * How much the media libraries say on stderr: 0 errors only, 1 warnings
 * too, 2 everything. Process-wide; the default is the libraries' own.
 */
void tc_set_log_level(int level);

#endif
