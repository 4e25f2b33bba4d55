/*
 * input.c - safe input: the only place a file is handed to libavformat.
 * Reads our own stored file through our reader (follow.c), sniffs its first bytes,
 * allows only the demuxers we mean to read, refuses every nested open
 * (playlists, concat scripts, external references), caps probing, honours
 * the deadline and checks the probed result against the limits. See
 * input.h. Not for decoding or filtering.
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/display.h>
#include <libavutil/time.h>

#include "follow.h"
#include "sniff.h"

/* Demuxers we read (their short names). */
#define TC_FORMATS "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts"

/* Video codecs we decode. */
static const enum AVCodecID tc_video_codecs[] = {
    AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_VP8, AV_CODEC_ID_VP9,
    AV_CODEC_ID_AV1, AV_CODEC_ID_MPEG4, AV_CODEC_ID_MPEG2VIDEO,
    AV_CODEC_ID_MPEG1VIDEO, AV_CODEC_ID_MJPEG, AV_CODEC_ID_PRORES,
    AV_CODEC_ID_H263, AV_CODEC_ID_THEORA, AV_CODEC_ID_NONE
};

/* Audio codecs we decode; another audio codec leaves the video silent. */
static const enum AVCodecID tc_audio_codecs[] = {
    AV_CODEC_ID_AAC, AV_CODEC_ID_OPUS, AV_CODEC_ID_VORBIS, AV_CODEC_ID_MP3,
    AV_CODEC_ID_MP2, AV_CODEC_ID_AC3, AV_CODEC_ID_EAC3, AV_CODEC_ID_FLAC,
    AV_CODEC_ID_ALAC, AV_CODEC_ID_PCM_S16LE, AV_CODEC_ID_PCM_S16BE,
    AV_CODEC_ID_PCM_S24LE, AV_CODEC_ID_PCM_S32LE, AV_CODEC_ID_PCM_F32LE,
    AV_CODEC_ID_PCM_U8, AV_CODEC_ID_NONE
};

static const char msg_unreadable[] =
    "this file is not a video Hubcast can read";

/* The sentence for a failed read: abandoned, too slow, or not readable. */
static const char *read_failure(const struct tc_input *in, int ret)
{
    if (ret == AVERROR_EXIT && in->pb && tc_reader_gone(in->pb))
        return "the upload was abandoned";
    return ret == AVERROR_EXIT ? "reading the file took too long"
                               : msg_unreadable;
}

void tc_limits_default(struct tc_limits *lim)
{
    lim->max_side = 4096;
    lim->max_pixels = 8912896;
    lim->max_duration = 7200;
    lim->max_fps = 240;
    lim->probe_size = 10 * 1000 * 1000;
    lim->max_streams = 16;
}

void tc_limits_fill(struct tc_limits *lim)
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

static int codec_allowed(const enum AVCodecID *list, enum AVCodecID id)
{
    for (; *list != AV_CODEC_ID_NONE; list++)
        if (*list == id)
            return 1;
    return 0;
}

/* Every nested open (hls segments, concat entries, mov drefs) is refused. */
static int refuse_io_open(AVFormatContext *s, AVIOContext **pb,
                          const char *url, int flags, AVDictionary **options)
{
    (void)pb; (void)flags; (void)options;
    av_log(s, AV_LOG_WARNING, "refused nested open of '%s'\n", url);
    return AVERROR(EPERM);
}

/* Interrupt callback: stop blocking work once the deadline has passed. */
static int input_interrupt(void *opaque)
{
    const struct tc_input *in = opaque;
    return in->deadline_us > 0 && av_gettime() > in->deadline_us;
}

/*
 * Read the first bytes through pb, classify them with the sniffer uploads
 * use too (src/sniff.c), and go back to 0.
 */
static int input_sniff(const struct tc_input *in, AVIOContext *pb, char *err, size_t errsz)
{
    unsigned char head[SNIFF_BYTES];
    const char *why;
    int n, ret;

    n = avio_read(pb, head, sizeof(head));
    if (n == AVERROR_EOF)
        n = 0;
    if (n < 0) {
        snprintf(err, errsz, "%s", read_failure(in, n));
        return n;
    }
    /* Fewer bytes than asked for: the file ends there. */
    if (sniff_media(head, (size_t)n, n < (int)sizeof(head), &why) != SNIFF_MEDIA) {
        snprintf(err, errsz, "%s", why ? why : msg_unreadable);
        return AVERROR_INVALIDDATA;
    }
    if ((ret = avio_seek(pb, 0, SEEK_SET)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "cannot rewind input: %s\n",
               av_err2str(ret));
        snprintf(err, errsz, "%s", msg_unreadable);
        return ret;
    }
    return 0;
}

/* Complain about options nobody consumed. Returns 0 or AVERROR(EINVAL). */
static int dict_leftover(AVDictionary *d, const char *where)
{
    const AVDictionaryEntry *e = NULL;
    int bad = 0;

    while ((e = av_dict_get(d, "", e, AV_DICT_IGNORE_SUFFIX))) {
        av_log(NULL, AV_LOG_ERROR, "%s: unused option %s=%s\n",
               where, e->key, e->value);
        bad = 1;
    }
    return bad ? AVERROR(EINVAL) : 0;
}

/* Wrap the stored file in our reader (no protocol: we read the fd). */
static int input_open_fd(struct tc_input *in, const struct tc_follow *follow,
                         char *err, size_t errsz)
{
    AVIOInterruptCB icb = { input_interrupt, in };
    int ret = tc_reader_open(in->fd, follow, &icb, &in->pb);

    if (ret < 0) {
        av_log(NULL, AV_LOG_ERROR, "cannot read the stored file: %s\n",
               av_err2str(ret));
        snprintf(err, errsz, "the stored file cannot be opened");
        return ret;
    }
    return input_sniff(in, in->pb, err, errsz);
}

/* Each demuxer name in the probed format must be on list. */
static int format_allowed_in(const char *name, const char *list)
{
    char tok[32];
    const char *p = name;

    while (*p) {
        size_t n = strcspn(p, ",");
        const char *q = list;
        int found = 0;

        if (n == 0 || n >= sizeof(tok))
            return 0;
        memcpy(tok, p, n);
        tok[n] = '\0';
        while (*q && !found) {
            size_t m = strcspn(q, ",");
            found = m == n && memcmp(q, tok, n) == 0;
            q += m + (q[m] == ',');
        }
        if (!found)
            return 0;
        p += n + (p[n] == ',');
    }
    return 1;
}

/* Each demuxer name in the probed format must be on our list of video
 * demuxers. */
static int format_allowed(const char *name)
{
    return format_allowed_in(name, TC_FORMATS);
}

/* Demux with the allowlists and caps; the main file is already open. */
static int input_demux(struct tc_input *in, const struct tc_limits *lim,
                       char *err, size_t errsz)
{
    AVDictionary *o = NULL;
    int ret;

    if (!(in->fmt = avformat_alloc_context()))
        return AVERROR(ENOMEM);
    in->fmt->pb = in->pb;
    in->fmt->io_open = refuse_io_open;
    in->fmt->interrupt_callback.callback = input_interrupt;
    in->fmt->interrupt_callback.opaque = in;
    av_dict_set(&o, "format_whitelist", TC_FORMATS, 0);
    av_dict_set(&o, "protocol_whitelist", "file", 0);
    av_dict_set_int(&o, "probesize", lim->probe_size, 0);
    /* A growing file is probed on its first seconds: the rest is not
     * there yet, and waiting for it would delay the first segment. */
    av_dict_set_int(&o, "analyzeduration", (tc_reader_growing(in->pb) ? 2 : 10)
                    * (int64_t)AV_TIME_BASE, 0);
    av_dict_set_int(&o, "max_streams", lim->max_streams, 0);
    ret = avformat_open_input(&in->fmt, NULL, NULL, &o);
    if (ret >= 0)
        ret = dict_leftover(o, "avformat_open_input");
    av_dict_free(&o);
    if (ret < 0) {
        av_log(NULL, AV_LOG_ERROR, "avformat_open_input: %s\n",
               av_err2str(ret));
        snprintf(err, errsz, "%s", read_failure(in, ret));
        return ret;
    }
    if ((ret = avformat_find_stream_info(in->fmt, NULL)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "avformat_find_stream_info: %s\n",
               av_err2str(ret));
        snprintf(err, errsz, "%s", read_failure(in, ret));
        return ret;
    }
    if (!format_allowed(in->fmt->iformat->name)) {
        snprintf(err, errsz, "%s", msg_unreadable);
        return AVERROR_INVALIDDATA;
    }
    if ((int)in->fmt->nb_streams > lim->max_streams) {
        snprintf(err, errsz, "this file has too many streams (%u, at most "
                 "%d)", in->fmt->nb_streams, lim->max_streams);
        return AVERROR_INVALIDDATA;
    }
    return 0;
}

/* Display rotation in clockwise degrees (0, 90, 180, 270). */
static int stream_rotation(const AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX,
                                               NULL);
    double theta;

    if (!m)
        return 0;
    theta = -round(av_display_rotation_get((const int32_t *)m));
    theta -= 360 * floor(theta / 360 + 0.9 / 360);
    if (fabs(theta - 90) < 2)
        return 90;
    if (fabs(theta - 180) < 2)
        return 180;
    if (fabs(theta - 270) < 2)
        return 270;
    return 0;
}

/* Pick the streams and check them against the limits. */
static int input_check(struct tc_input *in, const struct tc_limits *lim,
                       char *err, size_t errsz)
{
    AVFormatContext *ic = in->fmt;
    const AVStream *vs;
    const AVCodecParameters *par;
    AVRational sar, fr;
    int w, h;

    in->vindex = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (in->vindex < 0 ||
        (ic->streams[in->vindex]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
        snprintf(err, errsz, "this file has no video; Hubcast needs a video");
        return AVERROR_INVALIDDATA;
    }
    vs = ic->streams[in->vindex];
    par = vs->codecpar;
    if (!codec_allowed(tc_video_codecs, par->codec_id)) {
        snprintf(err, errsz, "the video is coded as %s, which Hubcast does "
                 "not read", avcodec_get_name(par->codec_id));
        return AVERROR_INVALIDDATA;
    }
    w = par->width;
    h = par->height;
    if (w <= 0 || h <= 0) {
        snprintf(err, errsz, "%s", msg_unreadable);
        return AVERROR_INVALIDDATA;
    }
    if (w > lim->max_side || h > lim->max_side ||
        (int64_t)w * h > lim->max_pixels) {
        snprintf(err, errsz, "the video is larger than %d\xc3\x97%d",
                 lim->max_side, lim->max_side);
        return AVERROR_INVALIDDATA;
    }
    fr = av_guess_frame_rate(ic, (AVStream *)vs, NULL);
    in->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
    /* The average rate is the better guess when it is known and lower. */
    if (vs->avg_frame_rate.num > 0 && vs->avg_frame_rate.den > 0 &&
        av_q2d(vs->avg_frame_rate) < in->fps)
        in->fps = av_q2d(vs->avg_frame_rate);
    /* A "rate" equal to the container's clock (1000 for WebM) only says
     * that frames come at irregular times: the rate is unknown, and the
     * filter graph makes it constant. */
    if (in->fps > lim->max_fps && vs->time_base.num == 1 &&
        fabs(in->fps - vs->time_base.den) < 0.5)
        in->fps = 0;
    if (in->fps > lim->max_fps) {
        snprintf(err, errsz, "the video has %.0f frames a second; Hubcast "
                 "takes at most %.0f", in->fps, lim->max_fps);
        return AVERROR_INVALIDDATA;
    }
    in->duration = ic->duration != AV_NOPTS_VALUE && ic->duration > 0 ?
                   ic->duration / (double)AV_TIME_BASE : 0;
    if (in->duration > lim->max_duration) {
        if (lim->max_duration >= 120)
            snprintf(err, errsz, "the video lasts %.0f minutes; Hubcast "
                     "takes at most %.0f", ceil(in->duration / 60),
                     floor(lim->max_duration / 60));
        else
            snprintf(err, errsz, "the video lasts %.0f seconds; Hubcast "
                     "takes at most %.0f", ceil(in->duration),
                     floor(lim->max_duration));
        return AVERROR_INVALIDDATA;
    }
    sar = av_guess_sample_aspect_ratio(ic, (AVStream *)vs, NULL);
    if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) {
        /* The picture as shown: a hostile pixel aspect ratio must not make
         * it wider than what the limits let in (nor overflow an int). */
        double dw = w * av_q2d(sar);
        if (!(dw >= 1) || dw > lim->max_side || dw * h > (double)lim->max_pixels) {
            snprintf(err, errsz, "the video's pixel shape makes it larger than %d\xc3\x97%d",
                     lim->max_side, lim->max_side);
            return AVERROR_INVALIDDATA;
        }
        w = (int)lrint(dw);
    }
    in->rotation = stream_rotation(vs);
    in->width = in->rotation % 180 ? h : w;
    in->height = in->rotation % 180 ? w : h;

    in->aindex = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, in->vindex,
                                     NULL, 0);
    if (in->aindex >= 0 &&
        !codec_allowed(tc_audio_codecs,
                       ic->streams[in->aindex]->codecpar->codec_id)) {
        av_log(NULL, AV_LOG_WARNING, "ignoring audio coded as %s\n",
               avcodec_get_name(ic->streams[in->aindex]->codecpar->codec_id));
        in->aindex = -1;
    }
    if (in->aindex < 0)
        in->aindex = -1;
    return 0;
}

int tc_input_open_fd(int fd, const struct tc_follow *follow,
                     const struct tc_limits *lim, int64_t deadline_us,
                     struct tc_input **out, char *err, size_t errsz)
{
    struct tc_input *in;
    int ret;

    *out = NULL;
    if (!(in = av_mallocz(sizeof(*in)))) {
        snprintf(err, errsz, "out of memory");
        return AVERROR(ENOMEM);
    }
    in->fd = fd;
    in->deadline_us = deadline_us;
    in->aindex = -1;
    in->vindex = -1;
    if ((ret = input_open_fd(in, follow, err, errsz)) < 0 ||
        (ret = input_demux(in, lim, err, errsz)) < 0 ||
        (ret = input_check(in, lim, err, errsz)) < 0) {
        in->fd = -1;  /* the caller's */
        tc_input_close(&in);
        return ret;
    }
    *out = in;
    return 0;
}

int tc_input_open(const char *path, const struct tc_limits *lim,
                  int64_t deadline_us, struct tc_input **out,
                  char *err, size_t errsz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), ret;

    *out = NULL;
    if (fd < 0) {
        av_log(NULL, AV_LOG_ERROR, "cannot open %s: %s\n", path,
               strerror(errno));
        snprintf(err, errsz, "the stored file cannot be opened");
        return AVERROR(errno);
    }
    if ((ret = tc_input_open_fd(fd, NULL, lim, deadline_us, out, err,
                                errsz)) < 0) {
        close(fd);
        return ret;
    }
    (*out)->own_fd = 1;
    return 0;
}

int tc_input_read(struct tc_input *in, AVPacket *pkt)
{
    return av_read_frame(in->fmt, pkt);
}

void tc_input_close(struct tc_input **pin)
{
    struct tc_input *in = *pin;

    if (!in)
        return;
    avformat_close_input(&in->fmt);  /* leaves our pb alone (custom IO) */
    tc_reader_close(&in->pb);
    if (in->own_fd && in->fd >= 0)
        close(in->fd);
    av_freep(pin);
}

/* ---- still pictures ---- */

/* Demuxers for pictures: one picture in a JPEG or PNG file, nothing else. */
#define TC_IMAGE_FORMATS "jpeg_pipe,png_pipe"

static const char msg_not_image[] =
    "this file is not a JPEG or PNG picture Hubcast can read";

int tc_image_open_fd(int fd, int max_side, int64_t deadline_us,
                     struct tc_input **out, char *err, size_t errsz)
{
    static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    AVIOInterruptCB icb;
    const AVInputFormat *ifmt;
    const AVCodecParameters *par;
    enum AVCodecID want;
    AVDictionary *o = NULL;
    unsigned char head[8];
    struct tc_input *in;
    int n, ret;

    *out = NULL;
    if (!(in = av_mallocz(sizeof(*in)))) {
        snprintf(err, errsz, "out of memory");
        return AVERROR(ENOMEM);
    }
    in->fd = fd;
    in->deadline_us = deadline_us;
    in->aindex = -1;
    in->vindex = -1;
    icb.callback = input_interrupt;
    icb.opaque = in;
    if ((ret = tc_reader_open(fd, NULL, &icb, &in->pb)) < 0) {
        snprintf(err, errsz, "the stored file cannot be opened");
        goto fail;
    }
    n = avio_read(in->pb, head, sizeof(head));
    if (n == (int)sizeof(head) && !memcmp(head, png_sig, sizeof(png_sig))) {
        ifmt = av_find_input_format("png_pipe");
        want = AV_CODEC_ID_PNG;
    } else if (n >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff) {
        ifmt = av_find_input_format("jpeg_pipe");
        want = AV_CODEC_ID_MJPEG;
    } else {
        snprintf(err, errsz, "%s", n < 0 ? read_failure(in, n) : msg_not_image);
        ret = n < 0 ? n : AVERROR_INVALIDDATA;
        goto fail;
    }
    if (!ifmt || (ret = avio_seek(in->pb, 0, SEEK_SET)) < 0) {
        snprintf(err, errsz, "%s", msg_not_image);
        ret = ifmt ? ret : AVERROR_DEMUXER_NOT_FOUND;
        goto fail;
    }
    if (!(in->fmt = avformat_alloc_context())) {
        ret = AVERROR(ENOMEM);
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    in->fmt->pb = in->pb;
    in->fmt->io_open = refuse_io_open;
    in->fmt->interrupt_callback = icb;
    av_dict_set(&o, "format_whitelist", TC_IMAGE_FORMATS, 0);
    av_dict_set(&o, "protocol_whitelist", "file", 0);
    av_dict_set_int(&o, "probesize", 1 << 20, 0);
    av_dict_set_int(&o, "max_streams", 1, 0);
    ret = avformat_open_input(&in->fmt, NULL, ifmt, &o);
    if (ret >= 0)
        ret = dict_leftover(o, "avformat_open_input");
    av_dict_free(&o);
    if (ret < 0 || (ret = avformat_find_stream_info(in->fmt, NULL)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "picture: %s\n", av_err2str(ret));
        snprintf(err, errsz, "%s", ret == AVERROR_EXIT ? read_failure(in, ret) : msg_not_image);
        goto fail;
    }
    if (!format_allowed_in(in->fmt->iformat->name, TC_IMAGE_FORMATS) ||
        in->fmt->nb_streams != 1) {
        snprintf(err, errsz, "%s", msg_not_image);
        ret = AVERROR_INVALIDDATA;
        goto fail;
    }
    par = in->fmt->streams[0]->codecpar;
    if (par->codec_type != AVMEDIA_TYPE_VIDEO || par->codec_id != want) {
        snprintf(err, errsz, "%s", msg_not_image);
        ret = AVERROR_INVALIDDATA;
        goto fail;
    }
    if (par->width <= 0 || par->height <= 0) {
        snprintf(err, errsz, "%s", msg_not_image);
        ret = AVERROR_INVALIDDATA;
        goto fail;
    }
    if (par->width > max_side || par->height > max_side) {
        snprintf(err, errsz, "the picture is larger than %d\xc3\x97%d", max_side, max_side);
        ret = AVERROR_INVALIDDATA;
        goto fail;
    }
    in->vindex = 0;
    in->width = par->width;
    in->height = par->height;
    *out = in;
    return 0;
fail:
    in->fd = -1;  /* the caller's */
    tc_input_close(&in);
    return ret;
}
