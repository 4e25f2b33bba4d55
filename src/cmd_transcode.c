/*
 * cmd_transcode.c - `hubcast transcode IN OUTDIR`: the media pipeline on one
 * file, without the catalog, for users, tests and benchmarks. Parses the
 * options, prints progress to stderr and a summary (or JSON) to stdout.
 * Not for the worker, which calls tc_transcode() itself.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
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
    "options:\n"
    "  --preset P         x264 preset (ultrafast ... veryslow), default veryfast\n"
    "  --crf N            x264 constant rate factor 0-51, default 23\n"
    "  --threads N        x264 threads per rung, 0 = automatic (default)\n"
    "  --max-duration S   refuse videos longer than S seconds, default 7200\n"
    "  --json             print the result as a JSON object on stdout\n"
    "  --help             show this text\n"
    "\n"
    "exit status: 0 done, 1 file refused or failed (reason on stderr),\n"
    "2 usage error\n";

/* State shared with the progress callback. */
struct transcode_progress {
    int last_percent;   /* last percentage printed, -1 = none */
    int last_tenths;    /* last seconds/10 printed when the total is unknown */
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

/*
 * argv[0] is "transcode"; returns the exit status: 0 done, 1 refused or
 * failed (reason on stderr), 2 usage error.
 */
int cmd_transcode(int argc, char **argv)
{
    struct transcode_progress prog = { -1, -1 };
    struct tc_options opt;
    struct tc_result res;
    const char *pos[2] = { NULL, NULL }, *v;
    int npos = 0, json = 0, verbose = 0, i;
    long n;

    tc_options_default(&opt);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(transcode_usage, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
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
    tc_set_log_level(verbose);
    opt.progress = transcode_progress;
    opt.opaque = &prog;
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
