/*
 * cmd_transcode.c - `hubcast transcode IN OUTDIR`: the media pipeline on one
 * file, without the catalog, for users, tests and benchmarks. Parses the
 * options, prints progress to stderr and a summary (or JSON) to stdout.
 * Not for the worker, which calls tc_transcode() itself.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "commands.h"
#include "publish.h"
#include "transcode.h"
#include "util.h"

static const char transcode_usage[] =
    "usage: hubcast transcode IN OUTDIR [options]\n"
    "\n"
    "Transcode the video file IN into an HLS ladder in the new folder OUTDIR\n"
    "(master.m3u8, one folder per rung, audio/, poster.jpg, storyboard.jpg,\n"
    "storyboard.vtt). OUTDIR must not exist; it appears complete or not at\n"
    "all.\n"
    "\n"
    "With --first-playable, make only the first rendition instead, as the\n"
    "server does before the ladder: OUTDIR/first/ (created; OUTDIR may exist)\n"
    "gets master.m3u8, video/ and audio/ with EVENT playlists that grow\n"
    "segment by segment and end with ENDLIST. H.264 up to 1080p within the\n"
    "top rung's rate is copied; anything else is encoded at most 720p, with\n"
    "--preset and --crf when that is the ladder's top rung of at most 720p30\n"
    "and the preset no slower than veryfast, else with superfast.\n"
    "With --follow, IN may still be growing: it is read as it grows and is\n"
    "complete once IN.done exists or it reaches --length bytes.\n"
    "\n"
    "options:\n"
    "  --preset P         x264 preset (ultrafast ... veryslow), default veryfast\n"
    "  --crf N            x264 constant rate factor 0-51, default 23\n"
    "  --threads N        x264 threads per rung, 0 = automatic (default)\n"
    "  --max-duration S   refuse videos longer than S seconds, default 7200\n"
    "  --json             print the result as a JSON object on stdout (with\n"
    "                     --first-playable: one JSON object a line, one per\n"
    "                     segment listed, a \"slow\" one when the pass is\n"
    "                     (no longer) slower than real time, then the\n"
    "                     result)\n"
    "  --first-playable   make the first rendition only, in OUTDIR/first\n"
    "  --follow           IN is still being written (see above)\n"
    "  --length N         with --follow: IN is complete at N bytes\n"
    "  --stall-timeout S  with --follow: give up (failed) when IN has not\n"
    "                     grown for S seconds\n"
    "  --reuse-first DIR  ladder only: DIR is the first rendition of IN\n"
    "                     (OUTDIR/first of a --first-playable run); when it\n"
    "                     was copied, or encoded as the top rung with this\n"
    "                     --preset and --crf, its video becomes the top rung\n"
    "                     and the other rungs put keyframes at its segment\n"
    "                     starts\n"
    "  --trim START:END   ladder only: keep the span from START to END seconds\n"
    "                     (END 0 = to the end), timed from 0 in the output\n"
    "  --help             show this text\n"
    "\n"
    "exit status: 0 done, 1 file refused or failed (reason on stderr),\n"
    "2 usage error\n";

/* State shared with the progress callback. */
struct transcode_progress {
    int last_percent;   /* last percentage printed, -1 = none */
    int last_tenths;    /* last seconds/10 printed when the total is unknown */
    int json;           /* --json: events on stdout */
};

static int transcode_progress(void *opaque, double done, double total,
                              double eta)
{
    struct transcode_progress *p = opaque;

    if (total > 0) {
        int pct = (int)(100.0 * done / total);
        if (pct > 100)
            pct = 100;
        if (pct == p->last_percent)
            return 0;
        p->last_percent = pct;
        if (eta >= 0)
            fprintf(stderr, "transcoding: %d%% (eta %.0f s)\n", pct, eta);
        else
            fprintf(stderr, "transcoding: %d%%\n", pct);
    } else {
        int tenths = (int)(done / 10);
        if (tenths == p->last_tenths)
            return 0;
        p->last_tenths = tenths;
        fprintf(stderr, "transcoding: %.0f s done\n", done);
    }
    return 0;
}

/* --first-playable: the pass says it is (no longer) slower than real time. */
static void transcode_slow(void *opaque, int slow, double pace)
{
    const struct transcode_progress *p = opaque;

    if (p->json) {
        printf("{\"event\": \"slow\", \"slow\": %s, \"pace\": %.3f}\n",
               slow ? "true" : "false", pace);
        fflush(stdout);
    } else if (pace > 0) {
        fprintf(stderr, "first playable: %s than real time (%.2f s of video a second)\n",
                slow ? "slower" : "faster", pace);
    } else {
        fprintf(stderr, "first playable: expected slower than real time (its size and rate)\n");
    }
}

/* The value of option name at argv[*i] ("--name V" or "--name=V"). */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static void print_json(const struct tc_result *r)
{
    json_t *o = json_object(), *rungs = json_array();
    char *s;
    int i;

    for (i = 0; i < r->nrungs; i++) {
        const struct tc_rung *g = &r->rungs[i];
        json_array_append_new(rungs, json_pack(
            "{s:s, s:i, s:i, s:i, s:i, s:s}", "name", g->name,
            "width", g->width, "height", g->height,
            "bandwidth", g->bandwidth, "avg_bandwidth", g->avg_bandwidth,
            "codecs", g->codecs));
    }
    json_object_set_new(o, "duration", json_real(r->duration));
    json_object_set_new(o, "width", json_integer(r->width));
    json_object_set_new(o, "height", json_integer(r->height));
    json_object_set_new(o, "fps", json_real(r->fps));
    json_object_set_new(o, "has_audio", json_boolean(r->has_audio));
    json_object_set_new(o, "rungs", rungs);
    if ((s = json_dumps(o, JSON_INDENT(2)))) {
        printf("%s\n", s);
        free(s);
    }
    json_decref(o);
}

static void print_summary(const char *out, const struct tc_result *r)
{
    int i;

    printf("%s: %.1f s, %dx%d, %.3f fps, %s\n", out, r->duration, r->width,
           r->height, r->fps, r->has_audio ? "with audio" : "no audio");
    for (i = 0; i < r->nrungs; i++)
        printf("  %-6s %4dx%-4d peak %6.0f kb/s  average %6.0f kb/s  %s\n",
               r->rungs[i].name, r->rungs[i].width, r->rungs[i].height,
               r->rungs[i].bandwidth / 1000.0,
               r->rungs[i].avg_bandwidth / 1000.0, r->rungs[i].codecs);
}

/* Parse a number option into *out within [min, max]. 0 or -1. */
static int num_opt(const char *name, const char *v, long min, long max,
                   long *out)
{
    if (!v || hc_parse_long(v, min, max, out) < 0) {
        fprintf(stderr, "hubcast: %s needs a number from %ld to %ld\n", name,
                min, max);
        return -1;
    }
    return 0;
}

/* What --follow knows about the input file. */
struct follow_file {
    int         fd;
    const char *done_path;   /* IN.done */
    long        length;      /* --length, 0 = none */
    long        stall;       /* --stall-timeout seconds, 0 = none */
    int64_t     last_size;
    double      last_growth; /* monotonic seconds */
};

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* tc_length_fn for a file written by another program. */
static enum tc_follow_state follow_length(void *opaque, int64_t *confirmed)
{
    struct follow_file *f = opaque;
    struct stat sb;
    int done;

    /* the marker first: once it exists, the size read next is final */
    done = access(f->done_path, F_OK) == 0;
    if (fstat(f->fd, &sb) < 0)
        return TC_FOLLOW_GONE;
    *confirmed = f->length > 0 && sb.st_size > f->length ? f->length
                                                         : sb.st_size;
    if (done || (f->length > 0 && sb.st_size >= f->length))
        return TC_FOLLOW_FINISHED;
    if (sb.st_size > f->last_size) {
        f->last_size = sb.st_size;
        f->last_growth = now_seconds();
    } else if (f->stall > 0 && now_seconds() - f->last_growth > f->stall) {
        return TC_FOLLOW_GONE;
    }
    return TC_FOLLOW_GROWING;
}

/* State of the --first-playable run shown to the person or the test. */
struct first_report {
    int    json;
    double t0;
};

static void first_segment(void *opaque, int segments, double seconds,
                          int playable)
{
    struct first_report *r = opaque;

    if (r->json) {
        printf("{\"event\": \"segment\", \"segments\": %d, \"seconds\": %.3f, "
               "\"playable\": %s, \"elapsed\": %.3f}\n", segments, seconds,
               playable ? "true" : "false", now_seconds() - r->t0);
        fflush(stdout);
    } else {
        fprintf(stderr, "first playable: %d segments, %.1f s%s\n", segments,
                seconds, playable ? "" : " (not playable yet)");
    }
}

static double cpu_seconds(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void first_print(const struct first_report *r,
                        const struct tc_first_result *res)
{
    const char *mode = res->mode == TC_FIRST_REMUX ? "remux" : "progressive";
    json_t *o;
    char *s;

    if (!r->json) {
        printf("first playable (%s%s): %.1f s in %d segments, %dx%d, %.0f kb/s "
               "video, %s, %s\n", mode, res->top_rung ? ", the ladder's top rung" : "",
               res->duration, res->segments,
               res->width, res->height, res->video_kbps, res->codecs,
               res->has_audio ? "with audio" : "no audio");
        return;
    }
    o = json_pack("{s:s, s:s, s:b, s:f, s:i, s:i, s:i, s:b, s:f, s:s, s:f, s:f}",
                  "event", "done", "mode", mode, "top_rung", res->top_rung,
                  "duration", res->duration,
                  "segments", res->segments, "width", res->width,
                  "height", res->height, "has_audio", res->has_audio,
                  "video_kbps", res->video_kbps, "codecs", res->codecs,
                  "elapsed", now_seconds() - r->t0,
                  "cpu_seconds", cpu_seconds());
    if (o && (s = json_dumps(o, JSON_COMPACT))) {
        printf("%s\n", s);
        free(s);
    }
    json_decref(o);
}

/* --first-playable: IN to OUTDIR/first. Exit status as cmd_transcode. */
static int first_playable(const char *in, const char *outdir, int follow,
                          long length, long stall,
                          const struct tc_options *opt, int json)
{
    struct first_report rep = { json, now_seconds() };
    struct follow_file ff = { -1, NULL, length, stall, -1, 0 };
    struct tc_follow fl = { follow_length, &ff, -1 };
    struct tc_first_result res;
    char first[4096], done[4096];
    int fd, dirfd, ret;

    if (snprintf(first, sizeof(first), "%s/first", outdir) >=
            (int)sizeof(first) ||
        snprintf(done, sizeof(done), "%s.done", in) >= (int)sizeof(done)) {
        fprintf(stderr, "hubcast: path too long\n");
        return 2;
    }
    if ((fd = open(in, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        fprintf(stderr, "hubcast: cannot open %s: %s\n", in, strerror(errno));
        return 1;
    }
    if ((mkdir(outdir, 0755) < 0 && errno != EEXIST) ||
        mkdir(first, 0755) < 0 ||
        (dirfd = open(first, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "hubcast: cannot create %s: %s\n", first,
                strerror(errno));
        close(fd);
        return 1;
    }
    ff.fd = fd;
    ff.done_path = done;
    ff.last_growth = now_seconds();
    ret = tc_first_playable(fd, follow ? &fl : NULL, dirfd, opt,
                            first_segment, &rep, &res);
    close(dirfd);
    close(fd);
    if (ret < 0) {
        fprintf(stderr, "hubcast: %s\n", res.error[0] ? res.error :
                "the transcode failed");
        tc_work_remove(first);  /* never half-published */
        return 1;
    }
    first_print(&rep, &res);
    return 0;
}

/*
 * argv[0] is "transcode"; returns the exit status: 0 done, 1 refused or
 * failed (reason on stderr), 2 usage error.
 */
int cmd_transcode(int argc, char **argv)
{
    struct transcode_progress prog = { -1, -1, 0 };
    struct tc_options opt;
    struct tc_result res;
    const char *pos[2] = { NULL, NULL }, *v;
    int npos = 0, json = 0, verbose = 0, first = 0, follow = 0, i;
    long n, length = 0, stall = 0;

    tc_options_default(&opt);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(transcode_usage, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--first-playable") == 0) {
            first = 1;
        } else if (strcmp(a, "--follow") == 0) {
            follow = 1;
        } else if (strncmp(a, "--length", 8) == 0) {
            if (num_opt("--length", opt_value(argc, argv, &i, "--length"), 1,
                        LONG_MAX, &length) < 0)
                return 2;
        } else if (strncmp(a, "--stall-timeout", 15) == 0) {
            if (num_opt("--stall-timeout",
                        opt_value(argc, argv, &i, "--stall-timeout"), 1,
                        86400, &stall) < 0)
                return 2;
        } else if (strncmp(a, "--reuse-first", 13) == 0) {
            if (!(v = opt_value(argc, argv, &i, "--reuse-first")) || !*v) {
                fprintf(stderr, "hubcast: --reuse-first needs a folder\n");
                return 2;
            }
            opt.reuse_first = v;
        } else if (strncmp(a, "--trim", 6) == 0) {
            if (hc_parse_span(opt_value(argc, argv, &i, "--trim"),
                              &opt.trim_start, &opt.trim_end) < 0) {
                fprintf(stderr, "hubcast: --trim needs START:END in seconds "
                        "(0 <= START < END, END 0 = to the end)\n");
                return 2;
            }
        } else if (strcmp(a, "--verbose") == 0) {
            verbose = 2;
        } else if (strncmp(a, "--preset", 8) == 0) {
            if (!(v = opt_value(argc, argv, &i, "--preset")) || !*v) {
                fprintf(stderr, "hubcast: --preset needs a value\n");
                return 2;
            }
            opt.preset = v;
        } else if (strncmp(a, "--crf", 5) == 0) {
            if (num_opt("--crf", opt_value(argc, argv, &i, "--crf"), 0, 51,
                        &n) < 0)
                return 2;
            opt.crf = (int)n;
        } else if (strncmp(a, "--threads", 9) == 0) {
            if (num_opt("--threads", opt_value(argc, argv, &i, "--threads"),
                        0, 64, &n) < 0)
                return 2;
            opt.threads = (int)n;
        } else if (strncmp(a, "--max-duration", 14) == 0) {
            if (num_opt("--max-duration",
                        opt_value(argc, argv, &i, "--max-duration"), 1,
                        7L * 24 * 3600, &n) < 0)
                return 2;
            opt.limits.max_duration = (double)n;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "hubcast: unknown option %s\n%s", a,
                    transcode_usage);
            return 2;
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            fprintf(stderr, "hubcast: too many arguments\n%s",
                    transcode_usage);
            return 2;
        }
    }
    if (npos != 2) {
        fprintf(stderr, "%s", transcode_usage);
        return 2;
    }
    if ((follow || length || stall) && !first) {
        fprintf(stderr, "hubcast: --follow, --length and --stall-timeout go "
                "with --first-playable\n");
        return 2;
    }
    tc_set_log_level(verbose);
    opt.progress = transcode_progress;
    opt.first_slow = transcode_slow;
    opt.opaque = &prog;
    prog.json = json;
    if (first)
        return first_playable(pos[0], pos[1], follow, length, stall, &opt,
                              json);
    if (tc_transcode(pos[0], pos[1], &opt, &res) < 0) {
        fprintf(stderr, "hubcast: %s\n", res.error[0] ? res.error :
                "the transcode failed");
        return 1;
    }
    if (json)
        print_json(&res);
    else
        print_summary(pos[1], &res);
    return 0;
}
