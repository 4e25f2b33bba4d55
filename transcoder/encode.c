/*
 * encode.c - encoders and HLS muxers for the rungs and the audio rendition;
 * see encode.h.
 */
#include "encode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/opt.h>

#include "publish.h"

#define TC_IO_BUFFER 65536

/* Log and fail on options nobody consumed. */
static int leftover(AVDictionary *d, const char *where)
{
    const AVDictionaryEntry *e = NULL;
    int bad = 0;

    while ((e = av_dict_get(d, "", e, AV_DICT_IGNORE_SUFFIX))) {
        av_log(NULL, AV_LOG_ERROR, "%s: unused option %s=%s\n", where,
               e->key, e->value);
        bad = 1;
    }
    return bad ? AVERROR(EINVAL) : 0;
}

/* AVIOContext write callback over a descriptor (opaque points to it). */
static int fd_write(void *opaque, uint8_t *buf, int size)
{
    int fd = *(int *)opaque, left = size;

    while (left > 0) {
        ssize_t n = write(fd, buf, (size_t)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? AVERROR(errno) : AVERROR(EIO);
        buf += n;
        left -= (int)n;
    }
    return size;
}

static int64_t fd_seek(void *opaque, int64_t offset, int whence)
{
    int fd = *(int *)opaque;
    off_t r;

    if (whence & AVSEEK_SIZE) {
        off_t cur = lseek(fd, 0, SEEK_CUR), end = lseek(fd, 0, SEEK_END);
        if (cur < 0 || end < 0 || lseek(fd, cur, SEEK_SET) < 0)
            return AVERROR(errno);
        return end;
    }
    r = lseek(fd, offset, whence & ~AVSEEK_FORCE);
    return r < 0 ? AVERROR(errno) : r;
}

/*
 * The muxer's io_open: url is a name below the work folder (s->opaque
 * points to its descriptor; the hls muxer hands opaque, io_open and
 * io_close2 on to the mp4 muxer it runs inside). Only writing is allowed.
 */
static int dir_io_open(AVFormatContext *s, AVIOContext **pb, const char *url,
                       int flags, AVDictionary **options)
{
    int dirfd = *(const int *)s->opaque, fd, *box = NULL;
    unsigned char *buf = NULL;

    (void)options;
    *pb = NULL;
    if ((flags & AVIO_FLAG_READ) || !(flags & AVIO_FLAG_WRITE))
        return AVERROR(EPERM);
    if ((fd = tc_work_openat(dirfd, url)) < 0) {
        av_log(s, AV_LOG_ERROR, "cannot write %s: %s\n", url,
               av_err2str(AVERROR(-fd)));
        return AVERROR(-fd);
    }
    if (!(box = av_malloc(sizeof(*box))) ||
        !(buf = av_malloc(TC_IO_BUFFER)) ||
        !(*pb = avio_alloc_context(buf, TC_IO_BUFFER, 1, box, NULL, fd_write,
                                   fd_seek))) {
        av_free(buf);
        av_free(box);
        close(fd);
        return AVERROR(ENOMEM);
    }
    *box = fd;
    return 0;
}

/* The muxer's io_close2: flush, close the descriptor, free the context. */
static int dir_io_close(AVFormatContext *s, AVIOContext *pb)
{
    int *box, ret;

    (void)s;
    if (!pb)
        return 0;
    avio_flush(pb);
    ret = pb->error;
    box = pb->opaque;
    if (close(*box) < 0 && ret >= 0)
        ret = AVERROR(errno);
    av_free(box);
    av_freep(&pb->buffer);
    avio_context_free(&pb);
    return ret;
}

/* Create the hls muxer for name/index.m3u8 below o->dirfd (no header yet). */
static int mux_alloc(struct tc_output *o, const char *name)
{
    char url[256];
    int ret;

    if (snprintf(url, sizeof(url), "%s/index.m3u8", name) >= (int)sizeof(url))
        return AVERROR(ENAMETOOLONG);
    if ((ret = avformat_alloc_output_context2(&o->mux, NULL, "hls",
                                              url)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "hls muxer: %s\n", av_err2str(ret));
        return ret;
    }
    o->mux->opaque = &o->dirfd;
    o->mux->io_open = dir_io_open;
    o->mux->io_close2 = dir_io_close;
    if (!(o->pkt = av_packet_alloc()))
        return AVERROR(ENOMEM);
    return 0;
}

/* Add the stream for the opened encoder and write the header. */
static int mux_start(struct tc_output *o, const char *name)
{
    AVDictionary *opts = NULL;
    char seg[256];
    int ret;

    if (!(o->st = avformat_new_stream(o->mux, NULL)))
        return AVERROR(ENOMEM);
    if ((ret = avcodec_parameters_from_context(o->st->codecpar, o->enc)) < 0)
        return ret;
    o->st->time_base = o->enc->time_base;
    snprintf(seg, sizeof(seg), "%s/seg_%%05d.m4s", name);
    av_dict_set(&opts, "hls_segment_type", "fmp4", 0);
    av_dict_set_int(&opts, "hls_time", TC_SEGMENT_SECONDS, 0);
    av_dict_set(&opts, "hls_playlist_type", "vod", 0);
    av_dict_set(&opts, "hls_flags", "independent_segments", 0);
    av_dict_set(&opts, "hls_fmp4_init_filename", "init.mp4", 0);
    av_dict_set(&opts, "hls_segment_filename", seg, 0);
    ret = avformat_write_header(o->mux, &opts);
    if (ret >= 0)
        ret = leftover(opts, "avformat_write_header");
    av_dict_free(&opts);
    if (ret < 0)
        av_log(NULL, AV_LOG_ERROR, "hls header in %s: %s\n", name,
               av_err2str(ret));
    else
        o->open = 1;
    return ret;
}

/* Open enc with the options in *opts and check they were all used. */
static int enc_open(AVCodecContext *enc, const AVCodec *codec,
                    AVDictionary **opts)
{
    int ret = avcodec_open2(enc, codec, opts);

    if (ret >= 0)
        ret = leftover(*opts, codec->name);
    av_dict_free(opts);
    if (ret < 0)
        av_log(NULL, AV_LOG_ERROR, "cannot open encoder %s: %s\n",
               codec->name, av_err2str(ret));
    return ret;
}

int tc_encoder_video(AVCodecContext **out, const struct tc_ladder_rung *r,
                     AVRational tb, double fps, const char *preset, int crf,
                     int threads, int global_header, double gop_seconds)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    AVDictionary *opts = NULL;
    int keyint = (int)lrint(gop_seconds * (fps > 0 ? fps : 30.0));
    AVCodecContext *enc;
    int ret;

    *out = NULL;
    if (!codec) {
        av_log(NULL, AV_LOG_ERROR, "libx264 encoder not available\n");
        return AVERROR_ENCODER_NOT_FOUND;
    }
    if (!(enc = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    enc->width = r->width;
    enc->height = r->height;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->sample_aspect_ratio = (AVRational){ 1, 1 };
    enc->time_base = tb;
    enc->framerate = av_d2q(fps > 0 ? fps : 30.0, 1001000);
    enc->gop_size = keyint;
    enc->keyint_min = keyint;
    enc->thread_count = threads;
    enc->rc_max_rate = r->maxrate;
    enc->rc_buffer_size = r->bufsize;
    enc->level = r->level;
    enc->flags |= AV_CODEC_FLAG_CLOSED_GOP;
    if (global_header)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_dict_set(&opts, "preset", preset, 0);
    av_dict_set_int(&opts, "crf", crf, 0);
    av_dict_set(&opts, "profile", "high", 0);
    av_dict_set(&opts, "forced-idr", "1", 0);
    av_dict_set(&opts, "x264-params", "scenecut=0:open-gop=0", 0);
    if ((ret = enc_open(enc, codec, &opts)) < 0) {
        avcodec_free_context(&enc);
        return ret;
    }
    *out = enc;
    return 0;
}

int tc_encoder_audio(AVCodecContext **out, int global_header)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("aac");
    AVDictionary *opts = NULL;
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    AVCodecContext *enc;
    int ret;

    *out = NULL;
    if (!codec)
        return AVERROR_ENCODER_NOT_FOUND;
    if (!(enc = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    enc->sample_rate = 48000;
    enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    enc->bit_rate = 128000;
    enc->time_base = (AVRational){ 1, 48000 };
    enc->profile = FF_PROFILE_AAC_LOW;
    if (global_header)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((ret = av_channel_layout_copy(&enc->ch_layout, &stereo)) < 0 ||
        (ret = enc_open(enc, codec, &opts)) < 0) {
        avcodec_free_context(&enc);
        return ret;
    }
    *out = enc;
    return 0;
}

int tc_output_open_video(struct tc_output *o, int dirfd, const char *name,
                         const struct tc_ladder_rung *r, AVRational tb,
                         double fps, const char *preset, int crf,
                         int threads, double gop_seconds)
{
    int ret;

    memset(o, 0, sizeof(*o));
    o->dirfd = dirfd;
    if ((ret = mux_alloc(o, name)) < 0 ||
        (ret = tc_encoder_video(&o->enc, r, tb, fps, preset, crf, threads,
                    !!(o->mux->oformat->flags & AVFMT_GLOBALHEADER),
                    gop_seconds)) < 0 ||
        (ret = mux_start(o, name)) < 0)
        goto fail;
    o->last_pts = AV_NOPTS_VALUE;
    o->key_base = -1;
    return 0;
fail:
    tc_output_free(o);
    return ret;
}

int tc_output_open_audio(struct tc_output *o, int dirfd, const char *name)
{
    int ret;

    memset(o, 0, sizeof(*o));
    o->dirfd = dirfd;
    if ((ret = mux_alloc(o, name)) < 0 ||
        (ret = tc_encoder_audio(&o->enc,
                    !!(o->mux->oformat->flags & AVFMT_GLOBALHEADER))) < 0 ||
        (ret = mux_start(o, name)) < 0)
        goto fail;
    o->last_pts = AV_NOPTS_VALUE;
    return 0;
fail:
    tc_output_free(o);
    return ret;
}

/* Mark frames on the keyframe grid as keyframes, the others as free. */
static void force_keyframe(struct tc_output *o, AVFrame *f)
{
    double t = f->pts * av_q2d(o->enc->time_base);

    f->pict_type = AV_PICTURE_TYPE_NONE;
    if (o->keys) {  /* the top rung's keyframe times */
        if (o->key_base < 0)
            o->key_base = t;
        if (o->ki < o->nkeys && t >= o->key_base + o->keys[o->ki] - 1e-3)
            f->pict_type = AV_PICTURE_TYPE_I;
        while (o->ki < o->nkeys && t >= o->key_base + o->keys[o->ki] - 1e-3)
            o->ki++;
        return;
    }
    if (t >= o->next_key - 1e-4) {
        f->pict_type = AV_PICTURE_TYPE_I;
        o->next_key = (floor(t / TC_GOP_SECONDS + 1e-6) + 1) * TC_GOP_SECONDS;
    }
}

int tc_output_send(struct tc_output *o, AVFrame *frame)
{
    int ret;

    if (frame && o->enc->codec_type == AVMEDIA_TYPE_VIDEO) {
        if (frame->pts == AV_NOPTS_VALUE || (o->last_pts != AV_NOPTS_VALUE &&
                                             frame->pts <= o->last_pts))
            return 0;  /* x264 needs strictly increasing timestamps */
        o->last_pts = frame->pts;
        force_keyframe(o, frame);
    }
    if ((ret = avcodec_send_frame(o->enc, frame)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "encoding: %s\n", av_err2str(ret));
        return ret;
    }
    for (;;) {
        ret = avcodec_receive_packet(o->enc, o->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0) {
            av_log(NULL, AV_LOG_ERROR, "encoding: %s\n", av_err2str(ret));
            return ret;
        }
        o->pkt->stream_index = 0;
        if (o->pkt->duration <= 0 && o->enc->framerate.num > 0 &&
            o->enc->codec_type == AVMEDIA_TYPE_VIDEO)
            o->pkt->duration = av_rescale_q(1, av_inv_q(o->enc->framerate),
                                            o->enc->time_base);
        av_packet_rescale_ts(o->pkt, o->enc->time_base, o->st->time_base);
        if ((ret = av_interleaved_write_frame(o->mux, o->pkt)) < 0) {
            av_log(NULL, AV_LOG_ERROR, "writing a segment: %s\n",
                   av_err2str(ret));
            return ret;
        }
    }
}

int tc_output_finish(struct tc_output *o)
{
    int ret;

    if ((ret = tc_output_send(o, NULL)) < 0)
        return ret;
    o->open = 0;
    if ((ret = av_write_trailer(o->mux)) < 0)
        av_log(NULL, AV_LOG_ERROR, "hls trailer: %s\n", av_err2str(ret));
    return ret;
}

void tc_output_free(struct tc_output *o)
{
    if (o->open)
        av_write_trailer(o->mux);  /* failure path: result not needed */
    avcodec_free_context(&o->enc);
    avformat_free_context(o->mux);      /* opaque is &o->dirfd: not ours to free */
    av_packet_free(&o->pkt);
    memset(o, 0, sizeof(*o));
}
