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
    tc_progress_fn   progress;
    void            *opaque;
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
    int            width, height; /* displayed source size after rotation */
    double         fps;
    int            has_audio;
    int            nrungs;
    struct tc_rung rungs[TC_MAX_RUNGS];
    char           error[256];    /* on failure: a sentence a person understands */
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
