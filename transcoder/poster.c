/*
 * poster.c - poster and storyboard; see poster.h. Frames are scaled with
 * libswscale to full-range yuvj420p and encoded with the mjpeg encoder.
 */
#include "poster.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/bprint.h>
#include <libswscale/swscale.h>

#include "publish.h"

void tc_thumbs_init(struct tc_thumbs *t, double duration)
{
    memset(t, 0, sizeof(*t));
    t->best_score = -1;
    t->window = duration > 0 ? duration * 0.1 : 5.0;
    if (t->window < 2.0)
        t->window = 2.0;
    if (t->window > 10.0)
        t->window = 10.0;
    t->interval = duration > 0 ? ceil(duration / TC_THUMB_MAX) : 2.0;
    if (t->interval < 1.0)
        t->interval = 1.0;
}

/* Variance of the luma plane, sampled on a grid. */
static double luma_variance(const AVFrame *f)
{
    double sum = 0, sum2 = 0;
    long n = 0;
    int x, y;

    for (y = 0; y < f->height; y += 4) {
        const uint8_t *row = f->data[0] + (ptrdiff_t)y * f->linesize[0];
        for (x = 0; x < f->width; x += 4) {
            sum += row[x];
            sum2 += (double)row[x] * row[x];
            n++;
        }
    }
    if (n == 0)
        return 0;
    return sum2 / n - (sum / n) * (sum / n);
}

/* A new yuvj420p frame of w x h scaled from src. NULL on failure. */
static AVFrame *scale_jpeg(struct SwsContext **sws, const AVFrame *src,
                           int w, int h)
{
    AVFrame *dst = av_frame_alloc();
    int ret;

    if (!dst)
        return NULL;
    dst->format = AV_PIX_FMT_YUVJ420P;
    dst->width = w;
    dst->height = h;
    if ((ret = av_frame_get_buffer(dst, 0)) < 0)
        goto fail;
    *sws = sws_getCachedContext(*sws, src->width, src->height, src->format,
                                w, h, AV_PIX_FMT_YUVJ420P, SWS_BICUBIC,
                                NULL, NULL, NULL);
    if (!*sws)
        goto fail;
    if ((ret = sws_scale(*sws, (const uint8_t *const *)src->data,
                         src->linesize, 0, src->height, dst->data,
                         dst->linesize)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "sws_scale: %s\n", av_err2str(ret));
        goto fail;
    }
    return dst;
fail:
    av_frame_free(&dst);
    return NULL;
}

/* Halve the storyboard: keep every other thumb, double the interval. */
static void thumbs_compact(struct tc_thumbs *t)
{
    int i;

    for (i = 0; i < t->n; i++) {
        if (i % 2)
            av_frame_free(&t->thumb[i]);
        else
            t->thumb[i / 2] = t->thumb[i];
    }
    for (i = (t->n + 1) / 2; i < t->n; i++)
        t->thumb[i] = NULL;
    t->n = (t->n + 1) / 2;
    t->interval *= 2;
    t->next_thumb = t->n * t->interval;
}

int tc_thumbs_add(struct tc_thumbs *t, const AVFrame *f, double time)
{
    if (time <= t->window && time >= t->next_cand) {
        double score = luma_variance(f);
        t->next_cand = time + 0.25;
        if (score > t->best_score) {
            av_frame_free(&t->best);
            if (!(t->best = av_frame_clone(f)))
                return AVERROR(ENOMEM);
            t->best_score = score;
        }
    }
    if (time >= t->next_thumb) {
        if (t->n == TC_THUMB_MAX)
            thumbs_compact(t);
        if (time < t->next_thumb)
            return 0;
        if (!t->tw) {
            t->tw = TC_THUMB_WIDTH;
            t->th = (int)lrint((double)f->height * t->tw / f->width / 2) * 2;
            if (t->th < 2)
                t->th = 2;
        }
        if (!(t->thumb[t->n] = scale_jpeg(&t->sws, f, t->tw, t->th)))
            return AVERROR(ENOMEM);
        t->n++;
        t->next_thumb = t->n * t->interval;
    }
    return 0;
}

/* Encode a yuvj420p frame as the JPEG file name below the folder dirfd. */
static int write_jpeg(const AVFrame *f, int dirfd, const char *name)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *enc = NULL;
    AVPacket *pkt = av_packet_alloc();
    int ret;

    if (!codec || !pkt || !(enc = avcodec_alloc_context3(codec))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    enc->width = f->width;
    enc->height = f->height;
    enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    enc->time_base = (AVRational){ 1, 25 };
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = 3 * FF_QP2LAMBDA;
    if ((ret = avcodec_open2(enc, codec, NULL)) < 0 ||
        (ret = avcodec_send_frame(enc, f)) < 0 ||
        (ret = avcodec_send_frame(enc, NULL)) < 0 ||
        (ret = avcodec_receive_packet(enc, pkt)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "jpeg %s: %s\n", name, av_err2str(ret));
        goto end;
    }
    if ((ret = tc_work_write(dirfd, name, pkt->data, (size_t)pkt->size)) < 0) {
        ret = AVERROR(-ret);
        av_log(NULL, AV_LOG_ERROR, "writing %s: %s\n", name, av_err2str(ret));
    }
end:
    avcodec_free_context(&enc);
    av_packet_free(&pkt);
    return ret;
}

/* The poster at the top rung size, at most TC_POSTER_MAX_W wide. */
static int write_poster(struct tc_thumbs *t, int dirfd)
{
    int w = t->best->width, h = t->best->height, ret;
    AVFrame *p;

    if (w > TC_POSTER_MAX_W) {
        h = (int)lrint((double)h * TC_POSTER_MAX_W / w / 2) * 2;
        w = TC_POSTER_MAX_W;
    }
    if (!(p = scale_jpeg(&t->sws, t->best, w, h)))
        return AVERROR(ENOMEM);
    ret = write_jpeg(p, dirfd, "poster.jpg");
    av_frame_free(&p);
    return ret;
}

/* Copy thumb i into its cell of the sprite. */
static void sprite_put(AVFrame *s, const AVFrame *th, int cx, int cy)
{
    int p, y;

    for (p = 0; p < 3; p++) {
        int sh = p ? 1 : 0;
        int w = th->width >> sh, h = th->height >> sh;
        for (y = 0; y < h; y++)
            memcpy(s->data[p] + (ptrdiff_t)((cy * h) + y) * s->linesize[p] +
                   cx * w, th->data[p] + (ptrdiff_t)y * th->linesize[p],
                   (size_t)w);
    }
}

/* seconds as a WebVTT timestamp, HH:MM:SS.mmm */
static void vtt_time(char *out, size_t outsz, double seconds)
{
    long long ms = seconds > 0 ? llround(seconds * 1000) : 0;

    snprintf(out, outsz, "%02lld:%02lld:%02lld.%03lld", ms / 3600000,
             ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

/* The sprite JPEG and the WebVTT cues pointing into it. */
static int write_storyboard(struct tc_thumbs *t, int dirfd, double duration)
{
    int cols = t->n < 10 ? t->n : 10, rows = (t->n + cols - 1) / cols;
    AVFrame *s = av_frame_alloc();
    AVBPrint vtt;
    int i, ret;

    if (!s)
        return AVERROR(ENOMEM);
    s->format = AV_PIX_FMT_YUVJ420P;
    s->width = cols * t->tw;
    s->height = rows * t->th;
    if ((ret = av_frame_get_buffer(s, 0)) < 0)
        goto end;
    memset(s->data[0], 0, (size_t)s->linesize[0] * s->height);
    memset(s->data[1], 128, (size_t)s->linesize[1] * (s->height / 2));
    memset(s->data[2], 128, (size_t)s->linesize[2] * (s->height / 2));
    for (i = 0; i < t->n; i++)
        sprite_put(s, t->thumb[i], i % cols, i / cols);
    if ((ret = write_jpeg(s, dirfd, "storyboard.jpg")) < 0)
        goto end;
    av_bprint_init(&vtt, 0, AV_BPRINT_SIZE_UNLIMITED);
    av_bprintf(&vtt, "WEBVTT\n");
    for (i = 0; i < t->n; i++) {
        double a = i * t->interval, b = (i + 1) * t->interval;
        char ta[32], tb[32];

        if (i == t->n - 1 && duration > a)
            b = duration;
        vtt_time(ta, sizeof(ta), a);
        vtt_time(tb, sizeof(tb), b);
        av_bprintf(&vtt, "\n%s --> %s\nstoryboard.jpg#xywh=%d,%d,%d,%d\n",
                   ta, tb, (i % cols) * t->tw, (i / cols) * t->th, t->tw,
                   t->th);
    }
    if (!av_bprint_is_complete(&vtt))
        ret = AVERROR(ENOMEM);
    else if ((ret = tc_work_write(dirfd, "storyboard.vtt", vtt.str,
                                  vtt.len)) < 0)
        ret = AVERROR(-ret);
    av_bprint_finalize(&vtt, NULL);
end:
    av_frame_free(&s);
    return ret;
}

int tc_thumbs_write(struct tc_thumbs *t, int dirfd, double duration)
{
    int ret;

    if (!t->best || t->n == 0)
        return AVERROR(EINVAL);
    if ((ret = write_poster(t, dirfd)) < 0)
        return ret;
    return write_storyboard(t, dirfd, duration);
}

void tc_thumbs_free(struct tc_thumbs *t)
{
    int i;

    av_frame_free(&t->best);
    for (i = 0; i < t->n; i++)
        av_frame_free(&t->thumb[i]);
    sws_freeContext(t->sws);
    memset(t, 0, sizeof(*t));
}
