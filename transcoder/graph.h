/*
 * graph.h - the filter graphs: one video graph from the decoder to one sink
 * per rung (rotation, deinterlace, fps cap, yuv420p, split, scale) and one
 * audio graph to 48 kHz stereo float planar in AAC-sized frames. Not for
 * decoding or encoding.
 */
#ifndef HUBCAST_TC_GRAPH_H
#define HUBCAST_TC_GRAPH_H

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>

#include "ladder.h"

/* The video graph. */
struct tc_vgraph {
    AVFilterGraph   *graph;
    AVFilterContext *src;                 /* buffer: decoded frames in */
    AVFilterContext *sink[TC_MAX_RUNGS];  /* buffersink per rung */
    int              nsinks;
};

/* The audio graph. */
struct tc_agraph {
    AVFilterGraph   *graph;
    AVFilterContext *src;   /* abuffer */
    AVFilterContext *sink;  /* abuffersink, 1024-sample frames */
};

/*
 * Build the video graph for frames from dec in time base tb, with the
 * display rotation (clockwise degrees) and the rungs r[0..n-1]. fps > 0
 * inserts an fps=N filter (constant output rate). Returns 0 or a negative AVERROR; on failure
 * *g holds nothing.
 */
int tc_vgraph_init(struct tc_vgraph *g, const AVCodecContext *dec,
                   AVRational tb, int rotation, int fps,
                   const struct tc_ladder_rung *r, int n, int threads);

/* Build the audio graph for frames from dec in time base tb. */
int tc_agraph_init(struct tc_agraph *g, const AVCodecContext *dec,
                   AVRational tb, int frame_size);

void tc_vgraph_free(struct tc_vgraph *g);
void tc_agraph_free(struct tc_agraph *g);

#endif
