/*
 * graph.c - building the video and audio filter graphs; see graph.h.
 * The graphs are described as filter strings and parsed by libavfilter,
 * with our buffer sources and sinks attached at the open pads.
 */
#include "graph.h"

#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>

/* Append text to buf at *off; returns -1 when it does not fit. */
static int append(char *buf, size_t sz, size_t *off, const char *s)
{
    size_t n = strlen(s);

    if (*off + n + 1 > sz)
        return -1;
    memcpy(buf + *off, s, n + 1);
    *off += n;
    return 0;
}

/* Link the parsed description desc between src ("in") and the sinks. */
static int graph_parse(AVFilterGraph *graph, const char *desc,
                       AVFilterContext *src, AVFilterContext **sinks, int n)
{
    AVFilterInOut *outputs = avfilter_inout_alloc();
    AVFilterInOut *inputs = NULL, **tail = &inputs;
    char label[16];
    int i, ret = AVERROR(ENOMEM);

    if (!outputs)
        goto end;
    outputs->name = av_strdup("in");
    outputs->filter_ctx = src;
    if (!outputs->name)
        goto end;
    for (i = 0; i < n; i++) {
        AVFilterInOut *io = avfilter_inout_alloc();
        if (!io)
            goto end;
        *tail = io;
        tail = &io->next;
        snprintf(label, sizeof(label), "out%d", i);
        io->name = av_strdup(label);
        io->filter_ctx = sinks[i];
        if (!io->name)
            goto end;
    }
    if ((ret = avfilter_graph_parse_ptr(graph, desc, &inputs, &outputs,
                                        NULL)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "cannot parse filters '%s': %s\n", desc,
               av_err2str(ret));
        goto end;
    }
    if ((ret = avfilter_graph_config(graph, NULL)) < 0)
        av_log(NULL, AV_LOG_ERROR, "cannot configure filters '%s': %s\n",
               desc, av_err2str(ret));
end:
    avfilter_inout_free(&inputs);
    avfilter_inout_free(&outputs);
    return ret;
}

/* The video filter description: chain, split, one scale per rung. */
static int vgraph_desc(char *d, size_t sz, int rotation, int fps,
                       const struct tc_ladder_rung *r, int n)
{
    char part[128];
    size_t off = 0;
    int i, bad = 0;

    bad |= append(d, sz, &off, "[in]");
    if (rotation == 90)
        bad |= append(d, sz, &off, "transpose=clock,");
    else if (rotation == 180)
        bad |= append(d, sz, &off, "hflip,vflip,");
    else if (rotation == 270)
        bad |= append(d, sz, &off, "transpose=cclock,");
    bad |= append(d, sz, &off, "yadif=mode=send_frame:deint=interlaced,");
    if (fps > 0) {
        snprintf(part, sizeof(part), "fps=%d,", fps);
        bad |= append(d, sz, &off, part);
    }
    snprintf(part, sizeof(part), "format=yuv420p,split=%d", n);
    bad |= append(d, sz, &off, part);
    for (i = 0; i < n; i++) {
        snprintf(part, sizeof(part), "[s%d]", i);
        bad |= append(d, sz, &off, part);
    }
    for (i = 0; i < n; i++) {
        snprintf(part, sizeof(part), ";[s%d]scale=%d:%d:flags=bicubic,"
                 "setsar=1,format=yuv420p[out%d]", i, r[i].width,
                 r[i].height, i);
        bad |= append(d, sz, &off, part);
    }
    return bad ? AVERROR(ENAMETOOLONG) : 0;
}

int tc_vgraph_init(struct tc_vgraph *g, const AVCodecContext *dec,
                   AVRational tb, int rotation, int fps,
                   const struct tc_ladder_rung *r, int n, int threads)
{
    char args[256], desc[2048];
    AVRational sar = dec->sample_aspect_ratio;
    int i, ret;

    memset(g, 0, sizeof(*g));
    if (!(g->graph = avfilter_graph_alloc()))
        return AVERROR(ENOMEM);
    g->graph->nb_threads = threads;
    if (sar.num <= 0 || sar.den <= 0)
        sar = (AVRational){ 1, 1 };
    snprintf(args, sizeof(args),
             "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
             dec->width, dec->height, dec->pix_fmt, tb.num, tb.den,
             sar.num, sar.den);
    if ((ret = avfilter_graph_create_filter(&g->src,
                    avfilter_get_by_name("buffer"), "in", args, NULL,
                    g->graph)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "buffer source: %s\n", av_err2str(ret));
        goto fail;
    }
    for (i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof(name), "out%d", i);
        if ((ret = avfilter_graph_create_filter(&g->sink[i],
                        avfilter_get_by_name("buffersink"), name, NULL, NULL,
                        g->graph)) < 0) {
            av_log(NULL, AV_LOG_ERROR, "buffer sink: %s\n", av_err2str(ret));
            goto fail;
        }
    }
    g->nsinks = n;
    if ((ret = vgraph_desc(desc, sizeof(desc), rotation, fps, r, n)) < 0 ||
        (ret = graph_parse(g->graph, desc, g->src, g->sink, n)) < 0)
        goto fail;
    return 0;
fail:
    tc_vgraph_free(g);
    return ret;
}

int tc_agraph_init(struct tc_agraph *g, const AVCodecContext *dec,
                   AVRational tb, int frame_size)
{
    static const char desc[] = "[in]aresample=48000,aformat=sample_fmts=fltp"
                               ":sample_rates=48000:channel_layouts=stereo"
                               "[out0]";
    char args[512], layout[256];
    AVChannelLayout cl = { 0 };
    int ret;

    memset(g, 0, sizeof(*g));
    if (!(g->graph = avfilter_graph_alloc()))
        return AVERROR(ENOMEM);
    if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&cl, dec->ch_layout.nb_channels);
    else if ((ret = av_channel_layout_copy(&cl, &dec->ch_layout)) < 0)
        goto fail;
    if ((ret = av_channel_layout_describe(&cl, layout, sizeof(layout))) < 0) {
        av_log(NULL, AV_LOG_ERROR, "channel layout: %s\n", av_err2str(ret));
        goto fail;
    }
    snprintf(args, sizeof(args),
             "time_base=%d/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
             tb.num, tb.den, dec->sample_rate,
             av_get_sample_fmt_name(dec->sample_fmt), layout);
    if ((ret = avfilter_graph_create_filter(&g->src,
                    avfilter_get_by_name("abuffer"), "in", args, NULL,
                    g->graph)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "abuffer '%s': %s\n", args,
               av_err2str(ret));
        goto fail;
    }
    if ((ret = avfilter_graph_create_filter(&g->sink,
                    avfilter_get_by_name("abuffersink"), "out0", NULL, NULL,
                    g->graph)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "abuffersink: %s\n", av_err2str(ret));
        goto fail;
    }
    if ((ret = graph_parse(g->graph, desc, g->src, &g->sink, 1)) < 0)
        goto fail;
    av_buffersink_set_frame_size(g->sink, (unsigned)frame_size);
    av_channel_layout_uninit(&cl);
    return 0;
fail:
    av_channel_layout_uninit(&cl);
    tc_agraph_free(g);
    return ret;
}

void tc_vgraph_free(struct tc_vgraph *g)
{
    avfilter_graph_free(&g->graph);
    memset(g, 0, sizeof(*g));
}

void tc_agraph_free(struct tc_agraph *g)
{
    avfilter_graph_free(&g->graph);
    memset(g, 0, sizeof(*g));
}
