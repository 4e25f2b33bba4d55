/*
 * transcode.c - the pipeline that tc_transcode() runs: safe input, decode
 * once, one video filter graph split per rung, x264 and AAC encoders, HLS
 * muxers, poster and storyboard, measured master playlist, progress and
 * atomic publish. The public entry points of transcode.h live here; the
 * parts live in input.c, ladder.c, graph.c, encode.c, poster.c,
 * playlist.c and publish.c.
 */
#include "transcode.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

#include "encode.h"
#include "gap.h"
#include "graph.h"
#include "input.h"
#include "ladder.h"
#include "playlist.h"
#include "poster.h"
#include "publish.h"
#include "reuse.h"
#include "trim.h"

#define TC_MAX_FPS_OUT 60.0

/* Everything one transcode holds; freed by job_free(). */
struct tc_job {
    struct tc_options      opt;         /* with defaults filled in */
    struct tc_result      *res;
    struct tc_input       *in;
    AVCodecContext        *vdec, *adec;
    struct tc_ladder_rung  lad[TC_MAX_RUNGS];
    int                    nrungs;
    int                    e0;          /* first encoded rung: 1 when lad[0]
                                           is the reused first rendition */
    struct tc_reuse        reuse;       /* opt.reuse_first, when e0 = 1 */
    int                    reuse_fd;    /* its folder, -1 = none; owned
                                           when opt.reuse_first_fd is not */
    double                 fps_out;     /* frame rate after the fps cap */
    struct tc_vgraph       vg;
    struct tc_agraph       ag;
    struct tc_output       vout[TC_MAX_RUNGS];
    struct tc_output       aout;
    int                    has_audio;
    struct tc_thumbs       thumbs;
    AVPacket              *pkt;
    AVFrame               *frame, *filt, *fixed;
    struct SwsContext     *fix;         /* frames whose size changed */
    int                    gw, gh, gfmt; /* what the video graph expects */
    int64_t                start_us;    /* input start time */
    double                 done;        /* seconds of video decoded */
    double                 end;         /* end time of the last frame */
    double                 last_pic;    /* time of the last picture, -1 = none */
    int64_t                t0, last_report;
    int                    work_fd;     /* the work folder (not owned) */
    struct tc_trim         trim;        /* opt.trim_start, opt.trim_end */
    int                    vpast, apast; /* decoded past the trim's end */
    double                 total;       /* seconds the output will last,
                                           0 = unknown */
    AVFrame               *cut;         /* an audio frame cut to the span */
};

static int fail(struct tc_job *j, int ret, const char *msg)
{
    if (!j->res->error[0])
        snprintf(j->res->error, sizeof(j->res->error), "%s", msg);
    return ret < 0 ? ret : AVERROR(EINVAL);
}

void tc_options_default(struct tc_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->preset = "veryfast";
    opt->crf = 23;
    tc_limits_default(&opt->limits);
}

/* Fill the zero fields of lim from the defaults. */
static void limits_fill(struct tc_limits *lim)
{
    struct tc_limits d;

    tc_limits_default(&d);
    if (lim->max_side <= 0) lim->max_side = d.max_side;
    if (lim->max_pixels <= 0) lim->max_pixels = d.max_pixels;
    if (lim->max_duration <= 0) lim->max_duration = d.max_duration;
    if (lim->max_fps <= 0) lim->max_fps = d.max_fps;
    if (lim->probe_size <= 0) lim->probe_size = d.probe_size;
    if (lim->max_streams <= 0) lim->max_streams = d.max_streams;
}

/* Open the decoder of stream idx. */
static int open_decoder(struct tc_job *j, int idx, AVCodecContext **out)
{
    const AVStream *st = j->in->fmt->streams[idx];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    AVDictionary *opts = NULL;
    int ret;

    if (!codec)
        return AVERROR_DECODER_NOT_FOUND;
    if (!(*out = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    if ((ret = avcodec_parameters_to_context(*out, st->codecpar)) < 0)
        return ret;
    (*out)->pkt_timebase = st->time_base;
    (*out)->max_pixels = j->opt.limits.max_pixels;
    av_dict_set(&opts, "threads", "auto", 0);
    ret = avcodec_open2(*out, codec, &opts);
    if (ret >= 0 && av_dict_count(opts) > 0) {
        av_log(NULL, AV_LOG_ERROR, "decoder: unused options\n");
        ret = AVERROR(EINVAL);
    }
    av_dict_free(&opts);
    if (ret < 0)
        av_log(NULL, AV_LOG_ERROR, "cannot open decoder %s: %s\n",
               codec->name, av_err2str(ret));
    return ret;
}

/* A folder per rung (and audio) in the work folder. */
static int make_folders(struct tc_job *j)
{
    int i, ret;

    for (i = 0; i < j->nrungs; i++)
        if ((ret = tc_work_mkdirat(j->work_fd, j->lad[i].name)) < 0)
            return fail(j, AVERROR(-ret), "cannot create the output folder");
    if (j->has_audio && (ret = tc_work_mkdirat(j->work_fd, "audio")) < 0)
        return fail(j, AVERROR(-ret), "cannot create the output folder");
    return 0;
}

/*
 * 1 when opt.reuse_first is a first rendition of this source's size that
 * fits this ladder (a copy, or an encode with its preset, CRF and frame
 * rate: tc_reuse_fits): lad[0] is then taken from it instead of being
 * encoded.
 */
static int reuse_first(struct tc_job *j)
{
    if (j->reuse_fd < 0 || j->nrungs < 2)
        return 0;  /* with one rung, the copy would be the whole ladder */
    if (tc_reuse_load(j->reuse_fd, &j->reuse) < 0)
        return 0;
    if (j->reuse.width != j->lad[0].width ||
        j->reuse.height != j->lad[0].height || j->in->rotation ||
        !tc_reuse_fits(&j->reuse, j->opt.preset, j->opt.crf, j->fps_out)) {
        tc_reuse_free(&j->reuse);
        return 0;
    }
    return 1;
}

/* Bring the reused top rung into the work folder. */
static int reuse_link(struct tc_job *j)
{
    int ret;

    if ((ret = tc_reuse_link(j->reuse_fd, j->work_fd, j->lad[0].name)) < 0)
        return fail(j, AVERROR(-ret), "the first rendition cannot be reused");
    return 0;
}

/*
 * 1 when the source's pictures come at irregular times: no rate guessed,
 * or none that the container states as an average (MediaRecorder WebM has
 * no frame duration, and a rate guessed from its smallest interval is not
 * its rate). The graph then makes the rate constant: the HLS muxer times
 * segments by their packets' durations, so a variable rate would list
 * shorter segments than it plays (a camera dropping frames under load).
 */
static int variable_rate(const struct tc_job *j)
{
    const AVStream *vs = j->in->fmt->streams[j->in->vindex];

    return j->in->fps <= 0 || vs->avg_frame_rate.num <= 0 || vs->avg_frame_rate.den <= 0;
}

/* Decoders, ladder, folders, graphs and outputs. */
static int job_setup(struct tc_job *j)
{
    const AVStream *vs = j->in->fmt->streams[j->in->vindex];
    int i, ret;

    if ((ret = open_decoder(j, j->in->vindex, &j->vdec)) < 0)
        return fail(j, ret, "this file is not a video Hubcast can read");
    j->has_audio = j->in->aindex >= 0 &&
                   open_decoder(j, j->in->aindex, &j->adec) >= 0;
    j->fps_out = j->in->fps > 0 ? j->in->fps : 30.0;
    if (j->fps_out > TC_MAX_FPS_OUT)
        j->fps_out = TC_MAX_FPS_OUT;
    j->nrungs = tc_ladder_choose(j->in->width, j->in->height, j->fps_out,
                                 j->lad);
    if (j->nrungs <= 0)
        return fail(j, AVERROR_INVALIDDATA,
                    "this file is not a video Hubcast can read");
    j->e0 = reuse_first(j);
    if ((ret = make_folders(j)) < 0)
        return ret;
    j->gw = j->vdec->width;
    j->gh = j->vdec->height;
    j->gfmt = j->vdec->pix_fmt;
    if (j->gfmt == AV_PIX_FMT_NONE)
        j->gfmt = AV_PIX_FMT_YUV420P;
    j->vdec->pix_fmt = j->gfmt;
    if ((ret = tc_vgraph_init(&j->vg, j->vdec, vs->time_base,
                              j->in->rotation,
                              /* constant output rate: capped, or 30 for
                               * a variable-rate source (MediaRecorder) */
                              j->in->fps > TC_MAX_FPS_OUT + 0.5 ? (int)TC_MAX_FPS_OUT :
                              variable_rate(j) ? (int)lrint(j->fps_out) : 0,
                              j->lad + j->e0, j->nrungs - j->e0,
                              j->opt.threads)) < 0)
        return fail(j, ret, "the video cannot be processed");
    if (j->has_audio &&
        (ret = tc_agraph_init(&j->ag, j->adec,
                              j->in->fmt->streams[j->in->aindex]->time_base,
                              1024)) < 0)
        return fail(j, ret, "the audio cannot be processed");
    for (i = j->e0; i < j->nrungs; i++) {
        if ((ret = tc_output_open_video(&j->vout[i], j->work_fd,
                        j->lad[i].name, &j->lad[i],
                        av_buffersink_get_time_base(j->vg.sink[i - j->e0]),
                        j->fps_out, j->opt.preset, j->opt.crf,
                        j->opt.threads, j->e0 ? 10.0 : TC_GOP_SECONDS)) < 0)
            return fail(j, ret, "the video encoder cannot be started");
        if (j->e0) {  /* keyframes where the reused top rung has them */
            j->vout[i].keys = j->reuse.keys;
            j->vout[i].nkeys = j->reuse.nkeys;
        }
    }
    if (j->has_audio &&
        (ret = tc_output_open_audio(&j->aout, j->work_fd, "audio")) < 0)
        return fail(j, ret, "the audio encoder cannot be started");
    return 0;
}

/* Report progress at most 4 times a second; non-zero means cancel. */
static int report(struct tc_job *j, int force)
{
    int64_t now = av_gettime_relative();
    double total = j->total, eta = -1;

    if (!j->opt.progress || (!force && now - j->last_report < 250000))
        return 0;
    j->last_report = now;
    if (total > 0 && j->done > 0) {
        double el = (now - j->t0) / 1e6;
        eta = el * (total - j->done) / j->done;
        if (eta < 0)
            eta = 0;
    }
    return j->opt.progress(j->opt.opaque, j->done,
                           total > 0 ? total : 0, eta);
}

/* Take one frame from rung i's sink, if it has one, and encode it.
 * Returns 1 when a frame was taken, 0 when none, or a negative AVERROR. */
static int drain_one(struct tc_job *j, int i)
{
    AVRational tb = av_buffersink_get_time_base(j->vg.sink[i]);
    int ret = av_buffersink_get_frame(j->vg.sink[i], j->filt);

    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    if (ret < 0)
        return fail(j, ret, "the video cannot be processed");
    if (i == 0 && j->filt->pts != AV_NOPTS_VALUE &&
        (ret = tc_thumbs_add(&j->thumbs, j->filt,
                             j->filt->pts * av_q2d(tb))) < 0) {
        av_frame_unref(j->filt);
        return fail(j, ret, "out of memory");
    }
    ret = tc_output_send(&j->vout[i + j->e0], j->filt);
    av_frame_unref(j->filt);
    if (ret < 0)
        return fail(j, ret, "the video cannot be encoded");
    return 1;
}

/*
 * Pull every frame the video sinks have and encode it, one frame from each
 * rung in turn: the graph makes a frame for every rung at once, so
 * emptying one sink first would queue all the others' frames (all the
 * frames a filled gap makes) in memory.
 */
static int drain_video(struct tc_job *j)
{
    int i, ret, any;

    do {
        any = 0;
        for (i = 0; i < j->vg.nsinks; i++) {
            if ((ret = drain_one(j, i)) < 0)
                return ret;
            any |= ret;
        }
    } while (any);
    return 0;
}

/* Pull every frame the audio sink has and encode it. */
static int drain_audio(struct tc_job *j)
{
    int ret;

    for (;;) {
        ret = av_buffersink_get_frame(j->ag.sink, j->filt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail(j, ret, "the audio cannot be processed");
        ret = tc_output_send(&j->aout, j->filt);
        av_frame_unref(j->filt);
        if (ret < 0)
            return fail(j, ret, "the audio cannot be encoded");
    }
}

/* Bring a frame whose size or format changed back to the graph's. */
static AVFrame *fix_frame(struct tc_job *j, AVFrame *f)
{
    int ret;

    if (f->width == j->gw && f->height == j->gh && f->format == j->gfmt)
        return f;
    av_frame_unref(j->fixed);
    j->fixed->width = j->gw;
    j->fixed->height = j->gh;
    j->fixed->format = j->gfmt;
    j->fix = sws_getCachedContext(j->fix, f->width, f->height, f->format,
                                  j->gw, j->gh, j->gfmt, SWS_BICUBIC,
                                  NULL, NULL, NULL);
    if (!j->fix || av_frame_get_buffer(j->fixed, 0) < 0 ||
        av_frame_copy_props(j->fixed, f) < 0)
        return NULL;
    if ((ret = sws_scale(j->fix, (const uint8_t *const *)f->data,
                         f->linesize, 0, f->height, j->fixed->data,
                         j->fixed->linesize)) < 0)
        return NULL;
    return j->fixed;
}

/* A decoded video frame: check it, time it, filter and encode it. */
static int on_video_frame(struct tc_job *j, AVFrame *f)
{
    const AVStream *st = j->in->fmt->streams[j->in->vindex];
    const struct tc_limits *lim = &j->opt.limits;
    AVFrame *g;
    int ret;

    if (f->width > lim->max_side || f->height > lim->max_side)
        return fail(j, AVERROR_INVALIDDATA, "the video is too large");
    f->pts = f->best_effort_timestamp;
    if (f->pts != AV_NOPTS_VALUE) {
        double t;
        int pos;

        f->pts -= av_rescale_q(j->start_us, AV_TIME_BASE_Q, st->time_base);
        t = f->pts * av_q2d(st->time_base);
        if (tc_gap_check(j->last_pic, t, TC_MAX_GAP_SECONDS, j->res->error,
                         sizeof(j->res->error)) < 0)
            return AVERROR_INVALIDDATA;
        if (t > j->last_pic)
            j->last_pic = t;
        if ((pos = tc_trim_video(&j->trim, t, j->fps_out)) != 0) {
            j->vpast |= pos > 0;
            return 0;   /* outside the trimmed span */
        }
        if (j->trim.start > 0) {
            f->pts -= (int64_t)llrint(j->trim.start / av_q2d(st->time_base));
            if (f->pts < 0)
                f->pts = 0;
            t = f->pts * av_q2d(st->time_base);
        }
        j->done = t;
        if (j->done + 1.0 / j->fps_out > j->end)
            j->end = j->done + 1.0 / j->fps_out;
    }
    if (j->done > lim->max_duration)
        return fail(j, AVERROR_INVALIDDATA, "the video is too long");
    if (!(g = fix_frame(j, f)))
        return fail(j, AVERROR(ENOMEM), "the video cannot be processed");
    if ((ret = av_buffersrc_add_frame_flags(j->vg.src, g,
                                            AV_BUFFERSRC_FLAG_KEEP_REF)) < 0)
        return fail(j, ret, "the video cannot be processed");
    av_frame_unref(j->fixed);
    if ((ret = drain_video(j)) < 0)
        return ret;
    if (report(j, 0) != 0)
        return fail(j, AVERROR_EXIT, "the transcode was cancelled");
    return 0;
}

/*
 * Keep only the samples of *f inside the trimmed span, timed from the
 * span's start: 1 with *f the frame to use (f itself, or j->cut holding
 * part of it), 0 when nothing of it is kept, or a negative AVERROR.
 */
static int trim_audio(struct tc_job *j, AVFrame **f, AVRational tb)
{
    AVFrame *in = *f, *c = j->cut;
    double sec = in->pts * av_q2d(tb);
    int skip, keep, ret;

    if (tc_trim_audio(&j->trim, sec, in->nb_samples, in->sample_rate,
                      &skip, &keep) > 0)
        j->apast = 1;
    if (keep <= 0)
        return 0;
    sec += (double)skip / in->sample_rate - j->trim.start;
    if (skip > 0 || keep < in->nb_samples) {
        av_frame_unref(c);
        c->format = in->format;
        c->sample_rate = in->sample_rate;
        c->nb_samples = keep;
        if ((ret = av_channel_layout_copy(&c->ch_layout, &in->ch_layout)) < 0 ||
            (ret = av_frame_get_buffer(c, 0)) < 0 ||
            (ret = av_samples_copy(c->extended_data, in->extended_data, 0,
                                   skip, keep, in->ch_layout.nb_channels,
                                   in->format)) < 0)
            return fail(j, ret, "the audio cannot be processed");
        *f = c;
    }
    (*f)->pts = sec > 0 ? (int64_t)llrint(sec / av_q2d(tb)) : 0;
    return 1;
}

/* A decoded audio frame: time it, resample and encode it. */
static int on_audio_frame(struct tc_job *j, AVFrame *f)
{
    const AVStream *st = j->in->fmt->streams[j->in->aindex];
    int ret;

    f->pts = f->best_effort_timestamp;
    if (f->pts != AV_NOPTS_VALUE)
        f->pts -= av_rescale_q(j->start_us, AV_TIME_BASE_Q, st->time_base);
    if (tc_trim_active(&j->trim) && f->pts != AV_NOPTS_VALUE &&
        (ret = trim_audio(j, &f, st->time_base)) <= 0)
        return ret;
    if ((ret = av_buffersrc_add_frame_flags(j->ag.src, f, 0)) < 0)
        return fail(j, ret, "the audio cannot be processed");
    return drain_audio(j);
}

/* Send pkt (NULL flushes) to dec and handle every frame that comes out. */
static int decode(struct tc_job *j, AVCodecContext *dec, const AVPacket *pkt)
{
    int video = dec == j->vdec, ret;

    ret = avcodec_send_packet(dec, pkt);
    if (ret < 0 && ret != AVERROR_EOF) {
        /* damaged data: skip this packet, as players do */
        av_log(NULL, AV_LOG_WARNING, "decoding: %s\n", av_err2str(ret));
        return ret == AVERROR(ENOMEM) ? ret : 0;
    }
    for (;;) {
        ret = avcodec_receive_frame(dec, j->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0) {
            av_log(NULL, AV_LOG_WARNING, "decoding: %s\n", av_err2str(ret));
            return ret == AVERROR(ENOMEM) ? ret : 0;
        }
        ret = video ? on_video_frame(j, j->frame) : on_audio_frame(j, j->frame);
        av_frame_unref(j->frame);
        if (ret < 0)
            return ret;
    }
}

/* Read, decode, filter and encode everything, then flush. */
static int job_run(struct tc_job *j)
{
    int ret;

    for (;;) {
        if (j->opt.deadline_us > 0 && av_gettime() > j->opt.deadline_us)
            return fail(j, AVERROR_EXIT, "the transcode took too long");
        ret = tc_input_read(j->in, j->pkt);
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0) {
            av_log(NULL, AV_LOG_WARNING, "reading: %s\n", av_err2str(ret));
            if (ret == AVERROR_EXIT)
                return fail(j, ret, "the transcode took too long");
            break;  /* a truncated tail: keep what was read */
        }
        if (j->vpast && (!j->has_audio || j->apast)) {
            av_packet_unref(j->pkt);
            break;      /* past the end of the trimmed span */
        }
        if (j->pkt->stream_index == j->in->vindex)
            ret = decode(j, j->vdec, j->pkt);
        else if (j->has_audio && j->pkt->stream_index == j->in->aindex)
            ret = decode(j, j->adec, j->pkt);
        av_packet_unref(j->pkt);
        if (ret < 0)
            return ret;
    }
    if ((ret = decode(j, j->vdec, NULL)) < 0 ||
        (j->has_audio && (ret = decode(j, j->adec, NULL)) < 0))
        return ret;
    return 0;
}

/* Close the graphs, flush the encoders and write the trailers. */
static int job_flush(struct tc_job *j)
{
    int i, ret;

    if (j->end <= 0)
        return fail(j, AVERROR_INVALIDDATA,
                    "this file is not a video Hubcast can read");
    if ((ret = av_buffersrc_add_frame_flags(j->vg.src, NULL, 0)) < 0 ||
        (ret = drain_video(j)) < 0)
        return fail(j, ret, "the video cannot be processed");
    if (j->has_audio &&
        ((ret = av_buffersrc_add_frame_flags(j->ag.src, NULL, 0)) < 0 ||
         (ret = drain_audio(j)) < 0))
        return fail(j, ret, "the audio cannot be processed");
    for (i = j->e0; i < j->nrungs; i++)
        if ((ret = tc_output_finish(&j->vout[i])) < 0)
            return fail(j, ret, "the video cannot be written");
    if (j->has_audio && (ret = tc_output_finish(&j->aout)) < 0)
        return fail(j, ret, "the audio cannot be written");
    return 0;
}

/* Where a media playlist's segments are: its folder below the work folder. */
struct seg_dir {
    int         fd;     /* the work folder */
    const char *name;   /* the rung's folder */
};

/* tc_size_fn over the files of a rung's folder. */
static int size_in_dir(void *opaque, const char *uri, int64_t *bytes)
{
    const struct seg_dir *d = opaque;
    char path[512];
    struct stat sb;

    if (strchr(uri, '/') || snprintf(path, sizeof(path), "%s/%s", d->name,
                                     uri) >= (int)sizeof(path))
        return -1;
    if (fstatat(d->fd, path, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    *bytes = sb.st_size;
    return 0;
}

/* Measure name/index.m3u8 in the work folder. */
static int measure(struct tc_job *j, const char *name,
                   struct tc_playlist_stats *st)
{
    struct seg_dir d = { j->work_fd, name };
    char path[512], *text = NULL;
    size_t n = 0;
    ssize_t r;
    int fd, ret = -1;

    snprintf(path, sizeof(path), "%s/index.m3u8", name);
    if ((fd = openat(j->work_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -1;
    if ((text = av_malloc(1 << 20))) {
        while (n < (1 << 20) - 1 &&
               ((r = read(fd, text + n, (1 << 20) - 1 - n)) > 0 ||
                (r < 0 && errno == EINTR)))
            n += r > 0 ? (size_t)r : 0;
        text[n] = '\0';
        ret = tc_playlist_measure(text, size_in_dir, &d, st);
    }
    av_free(text);
    close(fd);
    return ret;
}

/* Measure the playlists, write master.m3u8, fill the result. */
static int write_master(struct tc_job *j)
{
    struct tc_result *res = j->res;
    struct tc_master_variant v[TC_MAX_RUNGS];
    struct tc_playlist_stats vs, as = { 0 };
    char text[4096];
    int i, n;

    if (j->has_audio && measure(j, "audio", &as) < 0)
        return fail(j, AVERROR_INVALIDDATA, "the audio was not written");
    for (i = 0; i < j->nrungs; i++) {
        struct tc_rung *r = &res->rungs[i];
        char avc1[32];
        if (measure(j, j->lad[i].name, &vs) < 0)
            return fail(j, AVERROR_INVALIDDATA, "the video was not written");
        r->width = j->lad[i].width;
        r->height = j->lad[i].height;
        r->bandwidth = (int)ceil(vs.peak_bps + as.peak_bps);
        r->avg_bandwidth = (int)ceil(vs.avg_bps + as.avg_bps);
        if (i < j->e0)
            snprintf(avc1, sizeof(avc1), "%s", j->reuse.codecs);
        else
            tc_codecs_avc1(j->vout[i].enc->extradata,
                           (size_t)j->vout[i].enc->extradata_size,
                           avc1, sizeof(avc1));
        snprintf(r->codecs, sizeof(r->codecs), "%s%s", avc1,
                 j->has_audio ? ",mp4a.40.2" : "");
        snprintf(r->name, sizeof(r->name), "%s", j->lad[i].name);
        v[i].rung = r;
        v[i].fps = j->fps_out;
    }
    res->nrungs = j->nrungs;
    n = tc_master_format(text, sizeof(text), v, j->nrungs,
                         j->has_audio ? "audio/index.m3u8" : NULL);
    if (n < 0 || tc_work_write(j->work_fd, "master.m3u8", text, (size_t)n) < 0)
        return fail(j, AVERROR(EIO), "the master playlist was not written");
    return 0;
}

/* Refuse a stored file that ends well before its own declared length. */
static int check_complete(struct tc_job *j)
{
    const AVStream *st = j->in->fmt->streams[j->in->vindex];
    double declared = st->duration != AV_NOPTS_VALUE && st->duration > 0 ?
                      st->duration * av_q2d(st->time_base) : 0;

    if (j->trim.end > 0 && j->trim.end < declared)
        declared = j->trim.end;   /* the file was read up to there only */
    if (declared > 0 && j->end + j->trim.start < 0.75 * declared)
        return fail(j, AVERROR_INVALIDDATA,
                    "this file is incomplete or damaged");
    return 0;
}

static void job_free(struct tc_job *j)
{
    int i;

    for (i = 0; i < TC_MAX_RUNGS; i++)
        tc_output_free(&j->vout[i]);
    tc_output_free(&j->aout);
    tc_vgraph_free(&j->vg);
    tc_agraph_free(&j->ag);
    tc_thumbs_free(&j->thumbs);
    avcodec_free_context(&j->vdec);
    avcodec_free_context(&j->adec);
    av_packet_free(&j->pkt);
    av_frame_free(&j->frame);
    av_frame_free(&j->filt);
    av_frame_free(&j->fixed);
    av_frame_free(&j->cut);
    sws_freeContext(j->fix);
    tc_input_close(&j->in);
    tc_reuse_free(&j->reuse);
    if (j->reuse_fd >= 0 && j->reuse_fd != j->opt.reuse_first_fd)
        close(j->reuse_fd);
}

/* All the steps after the input is open. */
static int job_steps(struct tc_job *j)
{
    int ret;

    if (!(j->pkt = av_packet_alloc()) || !(j->frame = av_frame_alloc()) ||
        !(j->filt = av_frame_alloc()) || !(j->fixed = av_frame_alloc()) ||
        !(j->cut = av_frame_alloc()))
        return fail(j, AVERROR(ENOMEM), "out of memory");
    j->start_us = j->in->fmt->start_time != AV_NOPTS_VALUE ?
                  j->in->fmt->start_time : 0;
    j->total = tc_trim_length(&j->trim, j->in->duration);
    tc_thumbs_init(&j->thumbs, j->total);
    if ((ret = job_setup(j)) < 0 || (ret = job_run(j)) < 0 ||
        (ret = check_complete(j)) < 0 || (ret = job_flush(j)) < 0)
        return ret;
    j->res->source_duration = j->in->duration > 0 ? j->in->duration :
                              !j->vpast && !j->apast ? j->end + j->trim.start : 0;
    if (tc_trim_active(&j->trim))
        j->res->duration = j->total > 0 && j->total < j->end ? j->total : j->end;
    else
        j->res->duration = j->in->duration > 0 ? j->in->duration : j->end;
    j->done = j->res->duration;
    if (j->e0 && (ret = reuse_link(j)) < 0)
        return ret;
    j->res->reused_first = j->e0;
    if ((ret = tc_thumbs_write(&j->thumbs, j->work_fd, j->res->duration)) < 0)
        return fail(j, ret, "the poster could not be made");
    if ((ret = write_master(j)) < 0)
        return ret;
    report(j, 1);
    return 0;
}

int tc_transcode_fd(int in_fd, int work_fd, const struct tc_options *opt,
                    struct tc_result *res)
{
    struct tc_job *j;
    int ret;

    memset(res, 0, sizeof(*res));
    if (!(j = av_mallocz(sizeof(*j)))) {
        snprintf(res->error, sizeof(res->error), "out of memory");
        return AVERROR(ENOMEM);
    }
    j->opt = *opt;
    j->res = res;
    j->work_fd = work_fd;
    if (!j->opt.preset)
        j->opt.preset = "veryfast";
    if (j->opt.crf <= 0)
        j->opt.crf = 23;
    limits_fill(&j->opt.limits);
    j->trim.start = j->opt.trim_start > 0 ? j->opt.trim_start : 0;
    j->trim.end = j->opt.trim_end > 0 ? j->opt.trim_end : 0;
    j->reuse_fd = -1;
    if (tc_trim_active(&j->trim)) {
        j->opt.reuse_first = NULL;   /* a copy of the whole input */
        j->opt.reuse_first_fd = 0;
    }
    if (j->opt.reuse_first_fd > 0)
        j->reuse_fd = j->opt.reuse_first_fd;
    else if (j->opt.reuse_first)
        j->reuse_fd = open(j->opt.reuse_first, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    j->t0 = av_gettime_relative();
    j->last_pic = -1;
    if ((ret = tc_input_open_fd(in_fd, NULL, &j->opt.limits, j->opt.deadline_us,
                                &j->in, res->error, sizeof(res->error))) < 0)
        goto end;
    res->width = j->in->width;
    res->height = j->in->height;
    res->fps = j->in->fps > TC_MAX_FPS_OUT ? TC_MAX_FPS_OUT : j->in->fps;
    res->has_audio = j->in->aindex >= 0;
    ret = job_steps(j);
    res->has_audio = j->has_audio;
    res->fps = j->fps_out;
end:
    job_free(j);  /* closing the muxers may still write files */
    av_free(j);
    return ret < 0 ? ret : 0;
}

int tc_transcode(const char *in_path, const char *out_dir,
                 const struct tc_options *opt, struct tc_result *res)
{
    char work[4096];
    struct stat sb;
    int in_fd = -1, work_fd = -1, ret;

    memset(res, 0, sizeof(*res));
    work[0] = '\0';
    if (stat(out_dir, &sb) == 0) {
        snprintf(res->error, sizeof(res->error), "the output folder already exists");
        return AVERROR(EEXIST);
    }
    if ((in_fd = open(in_path, O_RDONLY | O_CLOEXEC)) < 0) {
        ret = AVERROR(errno);
        av_log(NULL, AV_LOG_ERROR, "cannot open %s: %s\n", in_path,
               av_err2str(ret));
        snprintf(res->error, sizeof(res->error), "the stored file cannot be opened");
        return ret;
    }
    if ((ret = tc_work_create(out_dir, work, sizeof(work))) < 0 ||
        (work_fd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        ret = AVERROR(ret < 0 ? -ret : errno);
        snprintf(res->error, sizeof(res->error), "cannot create the output folder");
        goto end;
    }
    if ((ret = tc_transcode_fd(in_fd, work_fd, opt, res)) < 0)
        goto end;
    if ((ret = tc_work_publish(work, out_dir)) < 0) {
        ret = AVERROR(-ret);
        snprintf(res->error, sizeof(res->error), "the output folder cannot be published");
        goto end;
    }
    work[0] = '\0';
end:
    if (work_fd >= 0)
        close(work_fd);
    close(in_fd);
    if (work[0] && access(work, F_OK) == 0)
        tc_work_remove(work);
    return ret < 0 ? ret : 0;
}

void tc_set_log_level(int level)
{
    av_log_set_level(level <= 0 ? AV_LOG_ERROR :
                     level == 1 ? AV_LOG_WARNING : AV_LOG_INFO);
}
