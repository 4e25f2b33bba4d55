/*
 * avatar.c - a profile picture from an uploaded JPEG or PNG; see avatar.h.
 * The picture is opened by tc_image_open_fd (input.c), decoded by the
 * decoder of its own codec only (mjpeg or png, single thread, pixel cap),
 * cropped, scaled with libswscale and encoded with the mjpeg encoder
 * (bitexact: no encoder comment). The packet is the whole JPEG file; the
 * parent flushes it to disk (the job child may not call fsync).
 */
#include "avatar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "input.h"

static const char msg_not_image[] =
    "this file is not a JPEG or PNG picture Hubcast can read";

/* Decode the first picture of in into *frame. 0 or an AVERROR. */
static int decode_first(struct tc_input *in, AVFrame **frame)
{
    const AVCodecParameters *par = in->fmt->streams[in->vindex]->codecpar;
    const AVCodec *dec = avcodec_find_decoder(par->codec_id);
    AVCodecContext *ctx = NULL;
    AVPacket *pkt = av_packet_alloc();
    int ret;

    *frame = av_frame_alloc();
    if (!dec || !pkt || !*frame || !(ctx = avcodec_alloc_context3(dec))) {
        ret = dec ? AVERROR(ENOMEM) : AVERROR_DECODER_NOT_FOUND;
        goto out;
    }
    if ((ret = avcodec_parameters_to_context(ctx, par)) < 0)
        goto out;
    ctx->thread_count = 1;
    ctx->max_pixels = (int64_t)TC_AVATAR_MAX_SIDE * TC_AVATAR_MAX_SIDE;
    if ((ret = avcodec_open2(ctx, dec, NULL)) < 0)
        goto out;
    for (;;) {
        ret = tc_input_read(in, pkt);
        if (ret < 0) {
            avcodec_send_packet(ctx, NULL);
        } else if (pkt->stream_index != in->vindex) {
            av_packet_unref(pkt);
            continue;
        } else {
            ret = avcodec_send_packet(ctx, pkt);
            av_packet_unref(pkt);
            if (ret < 0 && ret != AVERROR(EAGAIN))
                goto out;
        }
        ret = avcodec_receive_frame(ctx, *frame);
        if (ret == 0 || ret != AVERROR(EAGAIN))
            goto out;
    }
out:
    if (ret == 0 && ((*frame)->width <= 0 || (*frame)->height <= 0 ||
                     (*frame)->width > TC_AVATAR_MAX_SIDE ||
                     (*frame)->height > TC_AVATAR_MAX_SIDE ||
                     (*frame)->decode_error_flags))
        ret = AVERROR_INVALIDDATA;
    if (ret < 0)
        av_frame_free(frame);
    avcodec_free_context(&ctx);
    av_packet_free(&pkt);
    return ret;
}

/* The centred square of src, scaled to a new yuvj420p frame. NULL on failure. */
static AVFrame *square(AVFrame *src)
{
    AVFrame *dst = av_frame_alloc();
    struct SwsContext *sws = NULL;
    int side = src->width < src->height ? src->width : src->height;

    if (!dst)
        return NULL;
    src->crop_left = (size_t)(src->width - side) / 2;
    src->crop_right = (size_t)(src->width - side) - src->crop_left;
    src->crop_top = (size_t)(src->height - side) / 2;
    src->crop_bottom = (size_t)(src->height - side) - src->crop_top;
    dst->format = AV_PIX_FMT_YUVJ420P;
    dst->width = TC_AVATAR_SIZE;
    dst->height = TC_AVATAR_SIZE;
    if (av_frame_apply_cropping(src, AV_FRAME_CROP_UNALIGNED) < 0 ||
        av_frame_get_buffer(dst, 0) < 0 ||
        !(sws = sws_getContext(src->width, src->height, src->format, TC_AVATAR_SIZE,
                               TC_AVATAR_SIZE, AV_PIX_FMT_YUVJ420P, SWS_BICUBIC,
                               NULL, NULL, NULL)) ||
        sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0,
                  src->height, dst->data, dst->linesize) < 0)
        av_frame_free(&dst);
    sws_freeContext(sws);
    return dst;
}

/* Encode f as one JPEG into *pkt. 0 or an AVERROR. */
static int encode_jpeg(const AVFrame *f, AVPacket *pkt)
{
    const AVCodec *enc = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *ctx;
    int ret;

    if (!enc || !(ctx = avcodec_alloc_context3(enc)))
        return AVERROR_ENCODER_NOT_FOUND;
    ctx->width = f->width;
    ctx->height = f->height;
    ctx->pix_fmt = AV_PIX_FMT_YUVJ420P;
    ctx->time_base = (AVRational){ 1, 25 };
    ctx->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
    ctx->global_quality = FF_QP2LAMBDA * 3;
    ctx->thread_count = 1;
    if ((ret = avcodec_open2(ctx, enc, NULL)) >= 0 &&
        (ret = avcodec_send_frame(ctx, f)) >= 0 &&
        (ret = avcodec_send_frame(ctx, NULL)) >= 0)
        ret = avcodec_receive_packet(ctx, pkt);
    avcodec_free_context(&ctx);
    return ret;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int tc_avatar_fd(int in_fd, int dir_fd, int64_t deadline_us, char *err, size_t errsz)
{
    struct tc_input *in = NULL;
    AVFrame *frame = NULL, *sq = NULL;
    AVPacket *pkt = av_packet_alloc();
    int ret, out = -1;

    if (!pkt) {
        snprintf(err, errsz, "out of memory");
        return AVERROR(ENOMEM);
    }
    if ((ret = tc_image_open_fd(in_fd, TC_AVATAR_MAX_SIDE, deadline_us, &in, err, errsz)) < 0)
        goto out;
    if ((ret = decode_first(in, &frame)) < 0) {
        snprintf(err, errsz, "%s", msg_not_image);
        goto out;
    }
    if (!(sq = square(frame)) || (ret = encode_jpeg(sq, pkt)) < 0) {
        ret = ret < 0 ? ret : AVERROR(ENOMEM);
        snprintf(err, errsz, "the picture could not be made smaller");
        goto out;
    }
    out = openat(dir_fd, TC_AVATAR_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0 || write_all(out, pkt->data, (size_t)pkt->size) < 0) {
        ret = AVERROR(errno ? errno : EIO);
        snprintf(err, errsz, "the picture could not be written");
        if (out >= 0)
            unlinkat(dir_fd, TC_AVATAR_FILE, 0);
        goto out;
    }
    ret = 0;
out:
    if (out >= 0)
        close(out);
    av_frame_free(&sq);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    tc_input_close(&in);
    return ret;
}
