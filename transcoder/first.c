/*
 * first.c - the first-playable pass, tc_first_playable(): a rendition a
 * viewer can start while the upload is still arriving. Qualifying H.264
 * is copied packet by packet and cut at its own keyframes (remux); other
 * video is decoded and encoded once, at most 720p, with a fast preset, on
 * the 2 s keyframe grid (progressive). When that rung is the ladder's top
 * rung and small enough to keep pace on one core with the ladder's own
 * preset and CRF, it is encoded with those, and the ladder takes it over
 * as it does a copy (reuse.h). Audio is made AAC either way. The
 * input comes through input.c (safe-input rules, following reader), the
 * output through segment.c (fMP4 segments and EVENT playlists relative to
 * a folder descriptor). Not for the ladder (transcode.c).
 */
#include "transcode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/bsf.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/time.h>
#include <libswscale/swscale.h>

#include "encode.h"
#include "first.h"
#include "gap.h"
#include "follow.h"
#include "graph.h"
#include "input.h"
#include "ladder.h"
#include "playlist.h"
#include "reuse.h"
#include "segment.h"

#define FIRST_MIN_SEGMENT 1.5   /* cut at the first keyframe after this */
#define FIRST_AUDIO_SEGMENT 2.0 /* audio segments, seconds */
/* Progressive: a keyframe 1 s in besides the 2 s grid, and the first two
 * segments (audio: the first) cut at 1 s, so that a viewer can start once
 * 1 s of video is encoded, not 2 s: half the wait when many passes share
 * the cores (Friday afternoon). */
#define FIRST_QUICK 1.0
#define FIRST_LOOKAHEAD 4.0     /* seconds of video read to measure its rate */
#define FIRST_MAX_QUEUE 1024    /* packets held while measuring */
#define FIRST_MAX_FPS 60.0
#define FIRST_SLOW_BELOW 0.95   /* measured pace that makes a pass slow */
#define FIRST_FAST_ABOVE 1.05   /* ... and that makes it no longer slow */
/* Pixels a second up to which the top rung is encoded at the ladder's own
 * settings: 720p30 (and 30000/1001), which x264 veryfast encodes with one
 * thread at about 0.75 of a core (bench/README.md) */
#define FIRST_TOP_PIXELS (1280.0 * 720 * 30.5)

/* Everything one pass holds; freed by first_free(). */
struct first_job {
    struct tc_options       opt;
    struct tc_first_result *res;
    tc_segment_fn           on_segment;
    void                   *opaque;
    int                     dirfd;       /* output folder, the caller's */
    struct tc_input        *in;
    int                     copy;        /* remux, else progressive */
    int                     top;         /* progressive at the ladder's
                                            preset and CRF: its top rung */
    int                     has_audio;
    AVCodecContext         *vdec, *adec, *venc, *aenc;
    struct tc_vgraph        vg;
    struct tc_agraph        ag;
    struct tc_ladder_rung   rung;        /* progressive rung; remux: top rung */
    struct tc_segwriter     vw, aw;      /* video/, audio/ */
    AVPacket               *pkt, *epkt;  /* read, encoded */
    AVPacket               *queue[FIRST_MAX_QUEUE]; /* measured, not sent */
    int                     nqueue, qhead;
    AVFrame                *frame, *filt, *fixed;
    struct SwsContext      *fix;
    int                     gw, gh, gfmt; /* what the video graph expects */
    double                  fps_out;
    int64_t                 start_us;    /* subtracted from every time */
    int64_t                 last_dts;    /* remux: last video dts written */
    int64_t                 last_vpts;   /* progressive: last frame sent */
    double                  next_key;    /* progressive: next grid point */
    double                  done;        /* seconds of video handled */
    double                  last_pic;    /* progressive: time of the last
                                            picture, -1 = none (gap.h) */
    int                     master;      /* master.m3u8 written */
    int64_t                 last_report;
    int64_t                 work_t0;     /* when run() started */
    double                  waited0;     /* reader's waiting time then */
    double                  mark_work;   /* work and video done at the first
                                            frame, -1 before: the pace is
                                            measured from there, the
                                            decoder's and encoder's start
                                            not counted */
    double                  mark_done;
    int                     paced;       /* a pace was reported */
    int                     slow;        /* the verdict last given */
};

static int fail(struct first_job *j, int ret, const char *msg)
{
    if (!j->res->error[0])
        snprintf(j->res->error, sizeof(j->res->error), "%s", msg);
    return ret < 0 ? ret : AVERROR(EINVAL);
}

int tc_first_expect_slow(int width, int height, double fps)
{
    /* 1080p30 and a little margin (1088 coded lines, 30000/1001) */
    const double limit = 1920.0 * 1088 * 30.5;

    if (width <= 0 || height <= 0)
        return 0;
    return (double)width * height * (fps > 0 ? fps : 30.0) > limit;
}

const char *tc_first_copy_refusal(const struct tc_copy_probe *p)
{
    struct tc_ladder_rung r[TC_MAX_RUNGS];
    int lo = p->width < p->height ? p->width : p->height;
    int hi = p->width < p->height ? p->height : p->width;

    if (!p->h264)
        return "not H.264";
    if (!p->has_extradata)
        return "no parameter sets";
    if (lo <= 0 || lo > 1080 || hi > 1920)
        return "larger than 1080p";
    if (!p->yuv420p8)
        return "not 8-bit 4:2:0";
    if (!p->progressive)
        return "interlaced";
    if (p->rotation)
        return "rotated";
    if (!p->square_pixels)
        return "not square pixels";
    if (p->fps > FIRST_MAX_FPS + 0.5)
        return "more than 60 frames a second";
    if (tc_ladder_choose(p->width, p->height, p->fps > 0 ? p->fps : 30.0,
                         r) <= 0)
        return "no ladder for its size";
    if (p->bps > r[0].maxrate)
        return "above the top rung's maxrate";
    return NULL;
}

/* The first NAL unit of type t in Annex-B data; its length in *len. */
static const uint8_t *annexb_nal(const uint8_t *d, size_t size, int t,
                                 size_t *len)
{
    size_t i, k;

    for (i = 0; i + 3 < size; i++) {
        if (d[i] || d[i + 1] || d[i + 2] != 1 || (d[i + 3] & 0x1f) != t)
            continue;
        for (k = i + 3; k + 2 < size; k++)
            if (!d[k] && !d[k + 1] && d[k + 2] <= 1)
                break;
        *len = (k + 2 < size ? k : size) - (i + 3);
        return d + i + 3;
    }
    return NULL;
}

/*
 * The SPS in extradata, avcC or Annex B (what find_stream_info leaves
 * when a Matroska track has no CodecPrivate). NULL when it has none, or
 * (Annex B) no PPS either: the init segment needs both.
 */
static const uint8_t *extradata_sps(const uint8_t *d, size_t size,
                                    size_t *len)
{
    size_t pps;

    if (!d || size < 8)
        return NULL;
    if (d[0] == 1) {  /* avcC: one SPS at least, its length at 6 */
        *len = (size_t)d[6] << 8 | d[7];
        return (d[5] & 0x1f) && *len > 0 && 8 + *len <= size ? d + 8 : NULL;
    }
    if (!annexb_nal(d, size, 8, &pps))
        return NULL;
    return annexb_nal(d, size, 7, len);
}

/* Bit reader over an SPS with its emulation prevention bytes removed. */
struct sps_bits {
    uint8_t b[64];
    size_t  n, pos;  /* bytes, bit position */
};

static unsigned sps_bit(struct sps_bits *r)
{
    unsigned v = r->pos < 8 * r->n ?
                 (r->b[r->pos / 8] >> (7 - r->pos % 8)) & 1 : 0;
    r->pos++;
    return v;
}

static unsigned sps_ue(struct sps_bits *r)
{
    unsigned zeros = 0, v = 0, i;

    while (!sps_bit(r) && zeros < 31 && r->pos < 8 * r->n)
        zeros++;
    for (i = 0; i < zeros; i++)
        v = v << 1 | sps_bit(r);
    return (1u << zeros) - 1 + v;
}

/*
 * 1 when the SPS (NAL header first) says 8-bit 4:2:0, 0 when it says
 * otherwise, -1 when it cannot be read. Only the High profiles and their
 * relatives code chroma format and bit depth; the others imply 8-bit 4:2:0.
 */
static int sps_yuv420p8(const uint8_t *sps, size_t len)
{
    static const int high[] = { 100, 110, 122, 244, 44, 83, 86, 118, 128,
                                138, 139, 134, 135 };
    struct sps_bits r = { .n = 0, .pos = 0 };
    size_t i, zeros = 0;
    unsigned chroma, luma8, chroma8;
    int profile;

    for (i = 1; i < len && r.n < sizeof(r.b); i++) {  /* skip NAL header */
        if (zeros >= 2 && sps[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = sps[i] ? 0 : zeros + 1;
        r.b[r.n++] = sps[i];
    }
    if (r.n < 4)
        return -1;
    profile = r.b[0];
    for (i = 0; i < sizeof(high) / sizeof(high[0]); i++)
        if (profile == high[i])
            break;
    if (i == sizeof(high) / sizeof(high[0]))
        return 1;
    r.pos = 24;           /* profile, constraint flags, level */
    sps_ue(&r);           /* seq_parameter_set_id */
    chroma = sps_ue(&r);  /* chroma_format_idc */
    if (chroma == 3)
        sps_bit(&r);      /* separate_colour_plane_flag */
    luma8 = sps_ue(&r);   /* bit_depth_luma_minus8 */
    chroma8 = sps_ue(&r); /* bit_depth_chroma_minus8 */
    if (r.pos > 8 * r.n)
        return -1;
    return chroma == 1 && luma8 == 0 && chroma8 == 0;
}

/* Open the decoder of stream idx (threads automatic). */
static int open_decoder(struct first_job *j, int idx, AVCodecContext **out)
{
    const AVStream *st = j->in->fmt->streams[idx];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    int ret;

    if (!codec)
        return AVERROR_DECODER_NOT_FOUND;
    if (!(*out = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    if ((ret = avcodec_parameters_to_context(*out, st->codecpar)) < 0)
        return ret;
    (*out)->pkt_timebase = st->time_base;
    (*out)->max_pixels = j->opt.limits.max_pixels;
    (*out)->thread_count = 0;  /* automatic */
    if ((ret = avcodec_open2(*out, codec, NULL)) < 0)
        av_log(NULL, AV_LOG_ERROR, "cannot open decoder %s: %s\n",
               codec->name, av_err2str(ret));
    return ret;
}

/* Give the slow-or-not verdict when it changes (encoding only). */
static void set_slow(struct first_job *j, int slow, double pace)
{
    if (j->copy || slow == j->slow)
        return;
    j->slow = slow;
    av_log(NULL, AV_LOG_INFO, "first playable: %s than real time (%s)\n",
           slow ? "slower" : "faster",
           pace > 0 ? "measured" : "expected from its size and rate");
    if (j->opt.first_slow)
        j->opt.first_slow(j->opt.opaque, slow, pace);
}

/*
 * Report progress at most 4 times a second (and at once when the pace is
 * first known); non-zero means cancel. The pace is seconds of video done
 * per second of work since the first frame: wall time less the time the
 * reader waited for an upload's bytes. The eta is what is left at that
 * pace; after TC_FIRST_PACE_TRUST s of work the pace also says whether
 * the pass is slower than real time.
 */
static int report(struct first_job *j)
{
    int64_t now = av_gettime_relative();
    double total = j->in->duration, eta = -1, pace = 0, work;
    int was_paced = j->paced;

    if (!j->opt.progress && !j->opt.first_slow)
        return 0;
    if (was_paced && now - j->last_report < 250000)
        return 0;
    work = (now - j->work_t0) / 1e6 -
           (tc_reader_waited(j->in->pb) - j->waited0);
    if (j->mark_work < 0 && j->done > 0) {
        j->mark_work = work;
        j->mark_done = j->done;
    } else if (j->mark_work >= 0 && j->done > j->mark_done &&
               work > j->mark_work) {
        pace = (j->done - j->mark_done) / (work - j->mark_work);
        j->paced = 1;
        if (total > 0)
            eta = fmax(0, (total - j->done) / pace);
        if (work >= TC_FIRST_PACE_TRUST)
            set_slow(j, j->slow ? pace < FIRST_FAST_ABOVE :
                                  pace < FIRST_SLOW_BELOW, pace);
    }
    if (was_paced == j->paced && now - j->last_report < 250000)
        return 0;
    j->last_report = now;
    if (!j->opt.progress)
        return 0;
    return j->opt.progress(j->opt.opaque, j->done, total > 0 ? total : 0,
                           eta);
}

/* Write master.m3u8 once every playlist lists a segment. */
static int maybe_master(struct first_job *j)
{
    struct tc_first_result *res = j->res;
    struct tc_rung r;
    struct tc_master_variant v = { &r, j->fps_out };
    const AVCodecParameters *par = j->in->fmt->streams[j->in->vindex]->codecpar;
    char text[2048], avc1[32];
    int n, ret;

    if (j->master || j->vw.nsegs == 0 || (j->has_audio && j->aw.nsegs == 0))
        return 0;
    memset(&r, 0, sizeof(r));
    if (j->copy)
        tc_codecs_avc1(par->extradata, (size_t)par->extradata_size, avc1,
                       sizeof(avc1));
    else
        tc_codecs_avc1(j->venc->extradata, (size_t)j->venc->extradata_size,
                       avc1, sizeof(avc1));
    snprintf(r.codecs, sizeof(r.codecs), "%s%s", avc1,
             j->has_audio ? ",mp4a.40.2" : "");
    snprintf(res->codecs, sizeof(res->codecs), "%s", r.codecs);
    snprintf(r.name, sizeof(r.name), "video");
    r.width = res->width;
    r.height = res->height;
    /* Not measured yet: the rate cap (the copy was checked against it). */
    r.bandwidth = r.avg_bandwidth = j->rung.maxrate +
                                    (j->has_audio ? 128000 : 0);
    n = tc_master_format(text, sizeof(text), &v, 1,
                         j->has_audio ? "audio/index.m3u8" : NULL);
    /* say it was copied: the ladder may take it over as its top rung */
    if (n >= 0 && j->copy)
        n = (size_t)n + strlen(TC_REUSE_TAG) < sizeof(text) ?
            n + snprintf(text + n, sizeof(text) - (size_t)n, "%s",
                         TC_REUSE_TAG) : -1;
    else if (n >= 0 && j->top) {  /* ... or that it was made as one */
        int m = snprintf(text + n, sizeof(text) - (size_t)n,
                         "%sx264 %s crf %d\"\n", TC_REUSE_DATA,
                         j->opt.preset, j->opt.crf);
        n = m > 0 && (size_t)n + (size_t)m < sizeof(text) ? n + m : -1;
    }
    if (n < 0)
        return fail(j, AVERROR(EINVAL), "the master playlist was not written");
    if ((ret = tc_write_atomic(j->dirfd, "master.m3u8", text, (size_t)n)) < 0)
        return fail(j, AVERROR(-ret), "the master playlist was not written");
    j->master = 1;
    return 0;
}

/* After a segment was listed: master playlist, callback. */
static int listed(struct first_job *j, int video)
{
    int was = j->master, ret;

    if ((ret = maybe_master(j)) < 0)
        return ret;
    if (j->on_segment && (video || was != j->master))
        j->on_segment(j->opaque, j->vw.nsegs, j->vw.listed, j->master);
    return 0;
}

/* Write an encoded or copied packet to w, cutting where it may. */
static int put(struct first_job *j, struct tc_segwriter *w, AVPacket *p,
               double min_len)
{
    int64_t pts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
    int nsegs = w->nsegs, ret;
    int cut = (p->flags & AV_PKT_FLAG_KEY) &&
              tc_seg_open_length(w, pts) >= min_len - 1e-3;

    if ((ret = tc_seg_write(w, p, cut)) < 0)
        return fail(j, ret, "the first rendition cannot be written");
    if (w->nsegs != nsegs)
        return listed(j, w == &j->vw);
    return 0;
}

/* Receive every packet enc has and write it to w. */
static int drain_encoder(struct first_job *j, AVCodecContext *enc,
                         struct tc_segwriter *w, double min_len)
{
    int ret;

    for (;;) {
        ret = avcodec_receive_packet(enc, j->epkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail(j, ret, "the first rendition cannot be encoded");
        if (j->epkt->duration <= 0 && enc->codec_type == AVMEDIA_TYPE_VIDEO)
            j->epkt->duration = av_rescale_q(1, av_inv_q(enc->framerate),
                                             enc->time_base);
        ret = put(j, w, j->epkt, min_len);
        av_packet_unref(j->epkt);
        if (ret < 0)
            return ret;
    }
}

/* Encode frame (NULL flushes) with enc into w. */
static int encode(struct first_job *j, AVCodecContext *enc,
                  struct tc_segwriter *w, AVFrame *frame)
{
    int ret = avcodec_send_frame(enc, frame);

    if (ret < 0 && ret != AVERROR_EOF)
        return fail(j, ret, "the first rendition cannot be encoded");
    return drain_encoder(j, enc, w, enc->codec_type == AVMEDIA_TYPE_VIDEO ?
                         (w->nsegs < 2 ? FIRST_QUICK - 0.05 : FIRST_MIN_SEGMENT) :
                         (w->nsegs < 1 ? FIRST_QUICK : FIRST_AUDIO_SEGMENT));
}

/* Filtered video frames to x264, keyframes on the 2 s grid and at
 * FIRST_QUICK. */
static int drain_video(struct first_job *j)
{
    AVRational tb = av_buffersink_get_time_base(j->vg.sink[0]);
    int ret;

    for (;;) {
        ret = av_buffersink_get_frame(j->vg.sink[0], j->filt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail(j, ret, "the video cannot be processed");
        if (j->filt->pts == AV_NOPTS_VALUE ||
            (j->last_vpts != AV_NOPTS_VALUE && j->filt->pts <= j->last_vpts)) {
            av_frame_unref(j->filt);  /* x264 needs increasing times */
            continue;
        }
        j->last_vpts = j->filt->pts;
        j->filt->pict_type = AV_PICTURE_TYPE_NONE;
        if (j->filt->pts * av_q2d(tb) >= j->next_key - 1e-4) {
            double t = j->filt->pts * av_q2d(tb);
            j->filt->pict_type = AV_PICTURE_TYPE_I;
            j->next_key = t < FIRST_QUICK - 1e-4 ? FIRST_QUICK :
                          (floor(t / TC_GOP_SECONDS + 1e-6) + 1) *
                          TC_GOP_SECONDS;
        }
        ret = encode(j, j->venc, &j->vw, j->filt);
        av_frame_unref(j->filt);
        if (ret < 0)
            return ret;
    }
}

/* Resampled audio frames to AAC. */
static int drain_audio(struct first_job *j)
{
    int ret;

    for (;;) {
        ret = av_buffersink_get_frame(j->ag.sink, j->filt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail(j, ret, "the audio cannot be processed");
        ret = encode(j, j->aenc, &j->aw, j->filt);
        av_frame_unref(j->filt);
        if (ret < 0)
            return ret;
    }
}

/* Bring a frame whose size or format changed back to the graph's. */
static AVFrame *fix_frame(struct first_job *j, AVFrame *f)
{
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
        av_frame_copy_props(j->fixed, f) < 0 ||
        sws_scale(j->fix, (const uint8_t *const *)f->data, f->linesize, 0,
                  f->height, j->fixed->data, j->fixed->linesize) < 0)
        return NULL;
    return j->fixed;
}

/* The start offset in the time base of stream idx. */
static int64_t start_in(const struct first_job *j, int idx)
{
    return av_rescale_q(j->start_us, AV_TIME_BASE_Q,
                        j->in->fmt->streams[idx]->time_base);
}

/* A decoded frame: time it, check it, filter and encode it. */
static int on_frame(struct first_job *j, int video, AVFrame *f)
{
    const struct tc_limits *lim = &j->opt.limits;
    int idx = video ? j->in->vindex : j->in->aindex;
    AVFrame *g;
    int ret;

    f->pts = f->best_effort_timestamp;
    if (f->pts != AV_NOPTS_VALUE)
        f->pts -= start_in(j, idx);
    if (!video) {
        if ((ret = av_buffersrc_add_frame_flags(j->ag.src, f, 0)) < 0)
            return fail(j, ret, "the audio cannot be processed");
        return drain_audio(j);
    }
    if (f->width > lim->max_side || f->height > lim->max_side)
        return fail(j, AVERROR_INVALIDDATA, "the video is too large");
    if (f->pts != AV_NOPTS_VALUE) {
        double t = f->pts * av_q2d(j->in->fmt->streams[idx]->time_base);
        /* The same rule as the ladder: a long hole would become as many
         * repeated frames as it lasts. */
        if (tc_gap_check(j->last_pic, t, TC_MAX_GAP_SECONDS, j->res->error,
                         sizeof(j->res->error)) < 0)
            return AVERROR_INVALIDDATA;
        if (t > j->last_pic)
            j->last_pic = t;
        j->done = t;
    }
    if (j->done > lim->max_duration)
        return fail(j, AVERROR_INVALIDDATA, "the video is too long");
    if (!(g = fix_frame(j, f)))
        return fail(j, AVERROR(ENOMEM), "the video cannot be processed");
    ret = av_buffersrc_add_frame_flags(j->vg.src, g, AV_BUFFERSRC_FLAG_KEEP_REF);
    av_frame_unref(j->fixed);
    if (ret < 0)
        return fail(j, ret, "the video cannot be processed");
    return drain_video(j);
}

/* Send pkt (NULL flushes) to dec and handle every frame. */
static int decode(struct first_job *j, AVCodecContext *dec, const AVPacket *pkt)
{
    int video = dec == j->vdec, ret = avcodec_send_packet(dec, pkt);

    if (ret < 0 && ret != AVERROR_EOF) {
        av_log(NULL, AV_LOG_WARNING, "decoding: %s\n", av_err2str(ret));
        return ret == AVERROR(ENOMEM) ? ret : 0;  /* damaged: skip */
    }
    for (;;) {
        ret = avcodec_receive_frame(dec, j->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0) {
            av_log(NULL, AV_LOG_WARNING, "decoding: %s\n", av_err2str(ret));
            return ret == AVERROR(ENOMEM) ? ret : 0;
        }
        ret = on_frame(j, video, j->frame);
        av_frame_unref(j->frame);
        if (ret < 0)
            return ret;
    }
}

/* A video packet copied: decode times filled in, shifted, cut, written. */
static int copy_video(struct first_job *j, AVPacket *p)
{
    const AVStream *st = j->in->fmt->streams[j->in->vindex];
    int64_t off = start_in(j, j->in->vindex);
    int64_t dur = p->duration > 0 ? p->duration :
                  av_rescale_q(1, av_inv_q(av_d2q(j->fps_out, 1001000)),
                               st->time_base);

    if (p->pts == AV_NOPTS_VALUE)
        return 0;  /* cannot be placed: players would not show it either */
    if (p->dts == AV_NOPTS_VALUE)  /* the first packets of a B-frame stream */
        p->dts = j->last_dts == AV_NOPTS_VALUE ?
                 p->pts - st->codecpar->video_delay * dur : j->last_dts + dur;
    if (j->last_dts != AV_NOPTS_VALUE && p->dts <= j->last_dts)
        p->dts = j->last_dts + 1;
    if (p->dts > p->pts)
        return 0;  /* out of order beyond repair: drop, as players do */
    j->last_dts = p->dts;
    p->duration = dur;
    p->pts -= off;
    p->dts -= off;
    j->done = p->pts * av_q2d(st->time_base);
    if (j->done > j->opt.limits.max_duration)
        return fail(j, AVERROR_INVALIDDATA, "the video is too long");
    return put(j, &j->vw, p, FIRST_MIN_SEGMENT);
}

/* One packet from the input. */
static int on_packet(struct first_job *j, AVPacket *p)
{
    int ret = 0;

    if (p->stream_index == j->in->vindex)
        ret = j->copy ? copy_video(j, p) : decode(j, j->vdec, p);
    else if (j->has_audio && p->stream_index == j->in->aindex)
        ret = decode(j, j->adec, p);
    if (ret == 0 && report(j) != 0)
        ret = fail(j, AVERROR_EXIT, "the transcode was cancelled");
    return ret;
}

/* Next packet: the measured ones first, then the input. */
static int next_packet(struct first_job *j, AVPacket *p)
{
    if (j->qhead < j->nqueue) {
        av_packet_move_ref(p, j->queue[j->qhead]);
        av_packet_free(&j->queue[j->qhead++]);
        return 0;
    }
    if (j->opt.deadline_us > 0 && av_gettime() > j->opt.deadline_us)
        return AVERROR_EXIT;
    return tc_input_read(j->in, p);
}

/* Read one more packet into the queue; NULL at its end (or the input's,
 * or an error, met again later). */
static const AVPacket *queue_one(struct first_job *j)
{
    AVPacket *p;

    if (j->nqueue >= FIRST_MAX_QUEUE || !(p = av_packet_alloc()))
        return NULL;
    if (tc_input_read(j->in, p) < 0) {
        av_packet_free(&p);
        return NULL;
    }
    return j->queue[j->nqueue++] = p;
}

/*
 * H.264 with no parameter sets out of band (a Matroska track without
 * CodecPrivate, as Chromium's MediaRecorder writes, that find_stream_info
 * did not fill): take them from the first keyframe read, where such
 * streams carry them in-band, with the extract_extradata filter. The
 * packets stay as they are: the mp4 muxer makes Annex-B ones
 * length-prefixed and the avcC from these, before the first segment.
 */
static void inband_param_sets(struct first_job *j, AVCodecParameters *par)
{
    const AVStream *st = j->in->fmt->streams[j->in->vindex];
    const AVBitStreamFilter *f = av_bsf_get_by_name("extract_extradata");
    AVBSFContext *bsf = NULL;
    AVPacket *out = av_packet_alloc();
    const AVPacket *p = NULL;
    uint8_t *side, *copy;
    size_t size;
    int i;

    for (i = 0; ; i++) {
        p = i < j->nqueue ? j->queue[i] : queue_one(j);
        if (!p || (p->stream_index == j->in->vindex &&
                   (p->flags & AV_PKT_FLAG_KEY)))
            break;
    }
    if (!p || !f || !out || av_bsf_alloc(f, &bsf) < 0 ||
        avcodec_parameters_copy(bsf->par_in, par) < 0)
        goto end;
    bsf->time_base_in = st->time_base;
    if (av_bsf_init(bsf) < 0 || av_packet_ref(out, p) < 0 ||
        av_bsf_send_packet(bsf, out) < 0 || av_bsf_receive_packet(bsf, out) < 0)
        goto end;
    side = av_packet_get_side_data(out, AV_PKT_DATA_NEW_EXTRADATA, &size);
    if (!side || size == 0 || size > (1 << 20) ||
        !(copy = av_mallocz(size + AV_INPUT_BUFFER_PADDING_SIZE)))
        goto end;
    memcpy(copy, side, size);
    av_freep(&par->extradata);
    par->extradata = copy;
    par->extradata_size = (int)size;
    av_log(NULL, AV_LOG_INFO, "first playable: parameter sets from the "
           "first keyframe\n");
end:
    av_packet_free(&out);
    av_bsf_free(&bsf);
}

/*
 * Read (and keep) the first FIRST_LOOKAHEAD seconds of video and return
 * its average rate in bits/s; 0 when nothing could be measured.
 */
static double measure_rate(struct first_job *j)
{
    const AVStream *st = j->in->fmt->streams[j->in->vindex];
    int64_t first = AV_NOPTS_VALUE, last = AV_NOPTS_VALUE, bytes = 0;
    double span;

    for (int i = 0; ; i++) {
        const AVPacket *p = i < j->nqueue ? j->queue[i] : queue_one(j);
        if (!p)
            break;
        if (p->stream_index != j->in->vindex || p->pts == AV_NOPTS_VALUE)
            continue;
        bytes += p->size;
        if (first == AV_NOPTS_VALUE || p->pts < first)
            first = p->pts;
        if (last == AV_NOPTS_VALUE || p->pts > last)
            last = p->pts;
        if ((last - first) * av_q2d(st->time_base) >= FIRST_LOOKAHEAD)
            break;
    }
    if (first == AV_NOPTS_VALUE)
        return 0;
    span = (last - first) * av_q2d(st->time_base) +
           1.0 / (j->fps_out > 0 ? j->fps_out : 30.0);
    return bytes * 8.0 / span;
}

/* 1 when an x264 preset is no slower than veryfast, at which the top rung
 * of up to FIRST_TOP_PIXELS keeps pace on one core. */
static int first_top_preset(const char *preset)
{
    static const char *const fast[] = { "ultrafast", "superfast", "veryfast" };

    for (size_t i = 0; preset && i < sizeof(fast) / sizeof(fast[0]); i++)
        if (!strcmp(preset, fast[i]))
            return 1;
    return 0;
}

/* Copy or encode, and at which settings? Sets j->copy, j->top and
 * j->rung. */
static void choose_mode(struct first_job *j)
{
    const AVStream *st = j->in->fmt->streams[j->in->vindex];
    AVCodecParameters *par = st->codecpar;
    AVRational sar = av_guess_sample_aspect_ratio(j->in->fmt,
                                                  (AVStream *)st, NULL);
    struct tc_ladder_rung r[TC_MAX_RUNGS];
    struct tc_copy_probe p = { 0 };
    const uint8_t *sps;
    const char *why;
    size_t len = 0;
    int i, n;

    p.h264 = par->codec_id == AV_CODEC_ID_H264;
    if (p.h264 && !extradata_sps(par->extradata,
                                 (size_t)par->extradata_size, &len))
        inband_param_sets(j, par);
    sps = p.h264 ? extradata_sps(par->extradata,
                                 (size_t)par->extradata_size, &len) : NULL;
    p.has_extradata = sps != NULL;
    p.width = par->width;
    p.height = par->height;
    /* what the decoder saw, and what the SPS the copy keeps says */
    p.yuv420p8 = (par->format == AV_PIX_FMT_YUV420P ||
                  par->format == AV_PIX_FMT_YUVJ420P) &&
                 (!sps || sps_yuv420p8(sps, len) == 1);
    p.progressive = par->field_order == AV_FIELD_PROGRESSIVE ||
                    par->field_order == AV_FIELD_UNKNOWN;
    p.rotation = j->in->rotation;
    p.square_pixels = sar.num <= 0 || sar.den <= 0 || sar.num == sar.den;
    p.fps = j->in->fps;
    why = tc_first_copy_refusal(&p);
    if (!why) {
        p.bps = measure_rate(j);
        why = tc_first_copy_refusal(&p);
    }
    j->copy = why == NULL;
    if (why)
        av_log(NULL, AV_LOG_INFO, "first playable: encoding (%s)\n", why);
    n = tc_ladder_choose(j->in->width, j->in->height, j->fps_out, r);
    j->rung = r[0];
    for (i = 0; !j->copy && i < n; i++)
        if (r[i].short_side <= TC_FIRST_MAX_SIDE) {
            j->rung = r[i];
            break;
        }
    /* The ladder's top rung itself, and cheap enough at its settings: the
     * ladder will not encode it again (with one rung there is no ladder
     * left to spare; a rotated source's ladder is not the pass's). */
    j->top = !j->copy && i == 0 && n >= 2 && !j->in->rotation &&
             first_top_preset(j->opt.preset) && j->opt.crf > 0 &&
             (double)j->in->width * j->in->height *
             (j->in->fps > 0 ? j->in->fps : 30.0) <= FIRST_TOP_PIXELS;
    if (j->top)
        av_log(NULL, AV_LOG_INFO, "first playable: the ladder's top rung, "
               "x264 %s crf %d\n", j->opt.preset, j->opt.crf);
}

/* Decoders, graphs, encoders and writers for the chosen mode. */
static int setup(struct first_job *j)
{
    const AVStream *vs = j->in->fmt->streams[j->in->vindex];
    AVCodecParameters *par = NULL;
    int ret;

    if (j->has_audio &&
        ((ret = tc_agraph_init(&j->ag, j->adec,
                    j->in->fmt->streams[j->in->aindex]->time_base, 1024)) < 0 ||
         (ret = tc_encoder_audio(&j->aenc, 1)) < 0))
        return fail(j, ret, "the audio cannot be processed");
    if (j->copy) {
        j->res->mode = TC_FIRST_REMUX;
        j->res->width = vs->codecpar->width;
        j->res->height = vs->codecpar->height;
        if ((ret = tc_seg_open(&j->vw, j->dirfd, "video", vs->codecpar,
                               vs->time_base)) < 0)
            return fail(j, ret, "the first rendition cannot be written");
    } else {
        j->res->mode = TC_FIRST_PROGRESSIVE;
        j->res->top_rung = j->top;
        j->res->width = j->rung.width;
        j->res->height = j->rung.height;
        if ((ret = open_decoder(j, j->in->vindex, &j->vdec)) < 0)
            return fail(j, ret, "this file is not a video Hubcast can read");
        j->gw = j->vdec->width;
        j->gh = j->vdec->height;
        j->gfmt = j->vdec->pix_fmt != AV_PIX_FMT_NONE ? j->vdec->pix_fmt :
                  AV_PIX_FMT_YUV420P;
        j->vdec->pix_fmt = j->gfmt;
        if ((ret = tc_vgraph_init(&j->vg, j->vdec, vs->time_base,
                        j->in->rotation, j->in->fps > FIRST_MAX_FPS + 0.5 ?
                        (int)FIRST_MAX_FPS : j->in->fps <= 0 ?
                        (int)j->fps_out : 0, &j->rung, 1,
                        j->opt.threads)) < 0)
            return fail(j, ret, "the video cannot be processed");
        if ((ret = tc_encoder_video(&j->venc, &j->rung,
                        av_buffersink_get_time_base(j->vg.sink[0]),
                        j->fps_out, j->top ? j->opt.preset : TC_FIRST_PRESET,
                        j->top ? j->opt.crf : 23, j->opt.threads,
                        1, TC_GOP_SECONDS)) < 0)
            return fail(j, ret, "the video encoder cannot be started");
        if (!(par = avcodec_parameters_alloc()) ||
            (ret = avcodec_parameters_from_context(par, j->venc)) < 0 ||
            (ret = tc_seg_open(&j->vw, j->dirfd, "video", par,
                               j->venc->time_base)) < 0) {
            avcodec_parameters_free(&par);
            return fail(j, par ? ret : AVERROR(ENOMEM),
                        "the first rendition cannot be written");
        }
        avcodec_parameters_free(&par);
    }
    if (j->has_audio) {
        if (!(par = avcodec_parameters_alloc()) ||
            (ret = avcodec_parameters_from_context(par, j->aenc)) < 0 ||
            (ret = tc_seg_open(&j->aw, j->dirfd, "audio", par,
                               j->aenc->time_base)) < 0) {
            avcodec_parameters_free(&par);
            return fail(j, par ? ret : AVERROR(ENOMEM),
                        "the first rendition cannot be written");
        }
        avcodec_parameters_free(&par);
    }
    return 0;
}

/* Read everything (waiting for a growing file), then flush and end. */
static int run(struct first_job *j)
{
    int ret;

    j->work_t0 = av_gettime_relative();
    j->waited0 = tc_reader_waited(j->in->pb);
    for (;;) {
        ret = next_packet(j, j->pkt);
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0) {
            if (ret == AVERROR_EXIT)
                return fail(j, ret, tc_reader_gone(j->in->pb) ?
                            "the upload was abandoned" :
                            "the transcode took too long");
            av_log(NULL, AV_LOG_WARNING, "reading: %s\n", av_err2str(ret));
            break;  /* a truncated tail: keep what was read */
        }
        ret = on_packet(j, j->pkt);
        av_packet_unref(j->pkt);
        if (ret < 0)
            return ret;
    }
    if (!j->copy) {
        if ((ret = decode(j, j->vdec, NULL)) < 0)
            return ret;
        if ((ret = av_buffersrc_add_frame_flags(j->vg.src, NULL, 0)) < 0 ||
            (ret = drain_video(j)) < 0 ||
            (ret = encode(j, j->venc, &j->vw, NULL)) < 0)
            return fail(j, ret, "the video cannot be encoded");
    }
    if (j->has_audio) {
        if ((ret = decode(j, j->adec, NULL)) < 0)
            return ret;
        if ((ret = av_buffersrc_add_frame_flags(j->ag.src, NULL, 0)) < 0 ||
            (ret = drain_audio(j)) < 0 ||
            (ret = encode(j, j->aenc, &j->aw, NULL)) < 0)
            return fail(j, ret, "the audio cannot be encoded");
    }
    if (j->vw.seg_start == AV_NOPTS_VALUE && j->vw.nsegs == 0)
        return fail(j, AVERROR_INVALIDDATA,
                    "this file is not a video Hubcast can read");
    if ((ret = tc_seg_finish(&j->vw)) < 0 ||
        (j->has_audio && (ret = tc_seg_finish(&j->aw)) < 0))
        return fail(j, ret, "the first rendition cannot be written");
    return listed(j, 1);
}

static void first_free(struct first_job *j)
{
    int i;

    tc_seg_free(&j->vw);
    tc_seg_free(&j->aw);
    tc_vgraph_free(&j->vg);
    tc_agraph_free(&j->ag);
    avcodec_free_context(&j->vdec);
    avcodec_free_context(&j->adec);
    avcodec_free_context(&j->venc);
    avcodec_free_context(&j->aenc);
    for (i = j->qhead; i < j->nqueue; i++)
        av_packet_free(&j->queue[i]);
    av_packet_free(&j->pkt);
    av_packet_free(&j->epkt);
    av_frame_free(&j->frame);
    av_frame_free(&j->filt);
    av_frame_free(&j->fixed);
    sws_freeContext(j->fix);
    tc_input_close(&j->in);
}

/* Fill the result from what was listed. */
static void fill_result(struct first_job *j)
{
    struct tc_first_result *res = j->res;

    res->segments = j->vw.nsegs;
    res->has_audio = j->has_audio;
    res->duration = j->vw.listed;
    res->video_kbps = res->duration > 0 ?
                      j->vw.bytes * 8.0 / res->duration / 1000 : 0;
}

int tc_first_playable(int in_fd, const struct tc_follow *follow,
                      int out_dirfd, const struct tc_options *opt,
                      tc_segment_fn on_segment, void *opaque,
                      struct tc_first_result *res)
{
    struct first_job *j;
    int ret;

    memset(res, 0, sizeof(*res));
    if (!(j = av_mallocz(sizeof(*j)))) {
        snprintf(res->error, sizeof(res->error), "out of memory");
        return AVERROR(ENOMEM);
    }
    j->opt = *opt;
    j->res = res;
    j->on_segment = on_segment;
    j->opaque = opaque;
    j->dirfd = out_dirfd;
    j->last_dts = j->last_vpts = AV_NOPTS_VALUE;
    j->last_pic = -1;
    j->mark_work = -1;
    tc_limits_fill(&j->opt.limits);
    if ((ret = tc_input_open_fd(in_fd, follow, &j->opt.limits,
                                j->opt.deadline_us, &j->in, res->error,
                                sizeof(res->error))) < 0)
        goto end;
    ret = AVERROR(ENOMEM);
    if (!(j->pkt = av_packet_alloc()) || !(j->epkt = av_packet_alloc()) ||
        !(j->frame = av_frame_alloc()) || !(j->filt = av_frame_alloc()) ||
        !(j->fixed = av_frame_alloc())) {
        fail(j, ret, "out of memory");
        goto end;
    }
    j->start_us = j->in->fmt->start_time != AV_NOPTS_VALUE ?
                  j->in->fmt->start_time : 0;
    j->fps_out = j->in->fps > 0 ? fmin(j->in->fps, FIRST_MAX_FPS) : 30.0;
    j->has_audio = j->in->aindex >= 0 &&
                   open_decoder(j, j->in->aindex, &j->adec) >= 0;
    choose_mode(j);
    if (!j->copy)
        set_slow(j, tc_first_expect_slow(j->in->width, j->in->height,
                                         j->in->fps), 0);
    if (!j->copy && j->opt.first_wait && j->opt.first_wait(j->opt.opaque, j->top) != 0) {
        ret = fail(j, AVERROR_EXIT, "the upload was abandoned");
        goto end;
    }
    if ((ret = setup(j)) < 0 || (ret = run(j)) < 0)
        goto end;
    ret = 0;
end:
    if (j->in)
        fill_result(j);
    first_free(j);
    av_free(j);
    return ret < 0 ? ret : 0;
}
