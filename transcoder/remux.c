/*
 * remux.c - see remux.h. Each playlist is opened with the hls demuxer
 * (file protocol only), the first video (or audio) stream of each is
 * copied into an mp4 muxer with movflags +faststart, and packets are taken
 * from whichever input is behind, so the muxer never has to hold one
 * whole track in memory. Not for inputs from outside: it reads only the
 * transcoder's own output.
 */
#include "remux.h"

#include <stdio.h>
#include <string.h>

#include <libavformat/avformat.h>
#include <libavutil/avutil.h>

/* One input playlist and the stream taken from it. */
struct remux_in {
    AVFormatContext *fmt;
    int              index;     /* the stream used, in fmt */
    AVStream        *out;       /* its copy in the output */
    AVPacket        *pkt;       /* the next packet, valid when have */
    int              have;
    int              done;
};

static int fail(char *err, size_t errsz, int ret, const char *what)
{
    snprintf(err, errsz, "%s: %s", what, av_err2str(ret));
    return ret;
}

/* Open path (an HLS playlist) and find its first stream of type. */
static int open_in(struct remux_in *in, const char *path, enum AVMediaType type, char *err, size_t errsz)
{
    const AVInputFormat *hls = av_find_input_format("hls");
    AVDictionary *opts = NULL;
    int ret;

    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    ret = avformat_open_input(&in->fmt, path, hls, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return fail(err, errsz, ret, "opening a published playlist");
    if ((ret = avformat_find_stream_info(in->fmt, NULL)) < 0)
        return fail(err, errsz, ret, "reading a published playlist");
    if ((ret = av_find_best_stream(in->fmt, type, -1, -1, NULL, 0)) < 0)
        return fail(err, errsz, ret, "finding the stream of a published playlist");
    in->index = ret;
    if (!(in->pkt = av_packet_alloc()))
        return fail(err, errsz, AVERROR(ENOMEM), "allocating a packet");
    return 0;
}

static int add_stream(AVFormatContext *oc, struct remux_in *in, char *err, size_t errsz)
{
    AVStream *is = in->fmt->streams[in->index];
    int ret;

    if (!(in->out = avformat_new_stream(oc, NULL)))
        return fail(err, errsz, AVERROR(ENOMEM), "adding a stream");
    if ((ret = avcodec_parameters_copy(in->out->codecpar, is->codecpar)) < 0)
        return fail(err, errsz, ret, "copying stream parameters");
    in->out->codecpar->codec_tag = 0;
    in->out->time_base = is->time_base;
    return 0;
}

/* Make in->pkt the next packet of in's stream (in->done at the end). */
static int fill(struct remux_in *in, char *err, size_t errsz)
{
    int ret;

    while (!in->have && !in->done) {
        ret = av_read_frame(in->fmt, in->pkt);
        if (ret == AVERROR_EOF) {
            in->done = 1;
            break;
        }
        if (ret < 0)
            return fail(err, errsz, ret, "reading a segment");
        if (in->pkt->stream_index != in->index) {
            av_packet_unref(in->pkt);
            continue;
        }
        in->have = 1;
    }
    return 0;
}

/* The input whose next packet comes first, or NULL when all are done. */
static struct remux_in *next_in(struct remux_in *ins, int n)
{
    struct remux_in *best = NULL;

    for (int i = 0; i < n; i++) {
        AVStream *s;
        if (!ins[i].have)
            continue;
        s = ins[i].fmt->streams[ins[i].index];
        if (!best || av_compare_ts(ins[i].pkt->dts, s->time_base, best->pkt->dts,
                                   best->fmt->streams[best->index]->time_base) < 0)
            best = &ins[i];
    }
    return best;
}

static int copy_packets(AVFormatContext *oc, struct remux_in *ins, int n, char *err, size_t errsz)
{
    struct remux_in *in;
    int ret;

    for (;;) {
        for (int i = 0; i < n; i++)
            if ((ret = fill(&ins[i], err, errsz)) < 0)
                return ret;
        if (!(in = next_in(ins, n)))
            return 0;
        av_packet_rescale_ts(in->pkt, in->fmt->streams[in->index]->time_base, in->out->time_base);
        in->pkt->stream_index = in->out->index;
        in->pkt->pos = -1;
        in->have = 0;
        if ((ret = av_interleaved_write_frame(oc, in->pkt)) < 0)
            return fail(err, errsz, ret, "writing the MP4");
    }
}

int tc_remux_mp4(const char *video_m3u8, const char *audio_m3u8, const char *out_path,
                 char *err, size_t errsz)
{
    struct remux_in ins[2];
    AVFormatContext *oc = NULL;
    AVDictionary *opts = NULL;
    int n = audio_m3u8 ? 2 : 1, ret;

    memset(ins, 0, sizeof(ins));
    err[0] = '\0';
    if ((ret = open_in(&ins[0], video_m3u8, AVMEDIA_TYPE_VIDEO, err, errsz)) < 0 ||
        (audio_m3u8 && (ret = open_in(&ins[1], audio_m3u8, AVMEDIA_TYPE_AUDIO, err, errsz)) < 0))
        goto end;
    if ((ret = avformat_alloc_output_context2(&oc, NULL, "mp4", out_path)) < 0) {
        fail(err, errsz, ret, "starting the MP4");
        goto end;
    }
    for (int i = 0; i < n; i++)
        if ((ret = add_stream(oc, &ins[i], err, errsz)) < 0)
            goto end;
    if ((ret = avio_open(&oc->pb, out_path, AVIO_FLAG_WRITE)) < 0) {
        fail(err, errsz, ret, "creating the MP4");
        goto end;
    }
    av_dict_set(&opts, "movflags", "+faststart", 0);
    if ((ret = avformat_write_header(oc, &opts)) < 0) {
        fail(err, errsz, ret, "writing the MP4 header");
        goto end;
    }
    if (av_dict_count(opts)) {
        ret = AVERROR(EINVAL);
        snprintf(err, errsz, "the MP4 muxer did not take the option %s", av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX)->key);
        goto end;
    }
    if ((ret = copy_packets(oc, ins, n, err, errsz)) < 0)
        goto end;
    if ((ret = av_write_trailer(oc)) < 0)
        fail(err, errsz, ret, "finishing the MP4");
end:
    av_dict_free(&opts);
    if (oc) {
        if (oc->pb)
            avio_closep(&oc->pb);
        avformat_free_context(oc);
    }
    for (int i = 0; i < 2; i++) {
        av_packet_free(&ins[i].pkt);
        avformat_close_input(&ins[i].fmt);
    }
    return ret < 0 ? ret : 0;
}
