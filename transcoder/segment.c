/*
 * segment.c - a growing fMP4 HLS rendition in a folder descriptor; see
 * segment.h. The mp4 muxer runs fragmented (frag_custom): its header is
 * init.mp4, and each flush (a NULL packet) is one moof+mdat, which goes to
 * the segment file open at that moment.
 */
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/mem.h>

#define SEG_IOBUF (64 * 1024)

/* Write all of buf to fd. 0 or -errno. */
static int write_all(int fd, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        buf += k;
        n -= (size_t)k;
    }
    return 0;
}

int tc_write_atomic(int dirfd, const char *name, const char *data, size_t n)
{
    char tmp[256];
    int fd, ret;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    ret = write_all(fd, (const uint8_t *)data, n);
    if (close(fd) < 0 && ret == 0)
        ret = -errno;
    if (ret == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
        ret = -errno;
    if (ret < 0)
        unlinkat(dirfd, tmp, 0);
    return ret;
}

char *tc_event_playlist(const double *durs, int n, int ended)
{
    size_t sz = 256 + 48 * (size_t)n, off;
    double longest = 0;
    char *buf;
    int i, k;

    for (i = 0; i < n; i++)
        if (durs[i] > longest)
            longest = durs[i];
    if (!(buf = av_malloc(sz)))
        return NULL;
    /* The target must not be below any segment; 2 s at least, so that it
     * does not have to change as the playlist grows. */
    k = snprintf(buf, sz, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n"
                 "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n"
                 "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n",
                 longest > 2 ? (int)ceil(longest - 1e-3) : 2);
    off = (size_t)k;
    for (i = 0; i < n && off < sz; i++)
        off += (size_t)snprintf(buf + off, sz - off,
                                "#EXTINF:%.6f,\nseg_%05d.m4s\n", durs[i], i);
    if (ended && off < sz)
        off += (size_t)snprintf(buf + off, sz - off, "#EXT-X-ENDLIST\n");
    if (off >= sz) {  /* cannot happen with 48 bytes a segment */
        av_free(buf);
        return NULL;
    }
    return buf;
}

/* The muxer's output: into the open file, or nowhere. */
static int seg_out(void *opaque, uint8_t *buf, int size)
{
    struct tc_segwriter *w = opaque;
    int ret;

    if (w->fd < 0)
        return size;
    if ((ret = write_all(w->fd, buf, (size_t)size)) < 0) {
        if (!w->werr)
            w->werr = -ret;
        return AVERROR(-ret);
    }
    w->seg_bytes += size;
    return size;
}

/* Rewrite index.m3u8 from the listed segments. 0 or AVERROR. */
static int seg_playlist(struct tc_segwriter *w)
{
    char *text = tc_event_playlist(w->durs, w->nsegs, w->ended);
    char path[64];
    int ret;

    if (!text)
        return AVERROR(ENOMEM);
    snprintf(path, sizeof(path), "%s/index.m3u8", w->sub);
    ret = tc_write_atomic(w->dirfd, path, text, strlen(text));
    av_free(text);
    return ret < 0 ? AVERROR(-ret) : 0;
}

/* Open the file name for writing as the muxer's output. */
static int seg_file(struct tc_segwriter *w, const char *name)
{
    char path[128];

    if (snprintf(path, sizeof(path), "%s/%s", w->sub, name) >= (int)sizeof(path))
        return AVERROR(ENAMETOOLONG);
    w->fd = openat(w->dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   0644);
    w->seg_bytes = 0;
    return w->fd < 0 ? AVERROR(errno) : 0;
}

/* Finish the muxer's output into the open file and close it. */
static int seg_close_file(struct tc_segwriter *w)
{
    int ret = 0;

    avio_flush(w->pb);
    if (w->pb->error < 0)
        ret = w->pb->error;
    if (w->fd >= 0 && close(w->fd) < 0 && ret == 0)
        ret = AVERROR(errno);
    w->fd = -1;
    if (w->werr && ret == 0)
        ret = AVERROR(w->werr);
    return ret;
}

int tc_seg_open(struct tc_segwriter *w, int parent_dirfd, const char *name,
                const AVCodecParameters *par, AVRational tb)
{
    AVDictionary *o = NULL;
    unsigned char *buf = NULL;
    AVStream *st;
    int ret;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    w->seg_start = AV_NOPTS_VALUE;
    w->seg_end = AV_NOPTS_VALUE;
    w->tb = tb;
    if (strlen(name) >= sizeof(w->sub) || strchr(name, '/'))
        return AVERROR(EINVAL);
    if (mkdirat(parent_dirfd, name, 0755) < 0 && errno != EEXIST)
        return AVERROR(errno);
    w->dirfd = parent_dirfd;
    snprintf(w->sub, sizeof(w->sub), "%s", name);
    w->has_dir = 1;
    if ((ret = avformat_alloc_output_context2(&w->mux, NULL, "mp4",
                                              NULL)) < 0)
        goto fail;
    ret = AVERROR(ENOMEM);
    if (!(buf = av_malloc(SEG_IOBUF)) ||
        !(w->pb = avio_alloc_context(buf, SEG_IOBUF, 1, w, NULL, seg_out,
                                     NULL))) {
        av_free(buf);
        goto fail;
    }
    w->mux->pb = w->pb;
    w->mux->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (!(st = avformat_new_stream(w->mux, NULL)))
        goto fail;
    if ((ret = avcodec_parameters_copy(st->codecpar, par)) < 0)
        goto fail;
    st->codecpar->codec_tag = 0;
    st->time_base = tb;
    /* Fragments are cut by us (frag_custom); the moov goes out with the
     * header, so init.mp4 exists before the first segment. Each track's
     * decode times start at 0, as in the ladder's playlists. */
    av_dict_set(&o, "movflags", "frag_custom+empty_moov+default_base_moof",
                0);
    if ((ret = seg_file(w, "init.mp4")) < 0)
        goto fail;
    ret = avformat_write_header(w->mux, &o);
    if (ret >= 0 && av_dict_count(o) > 0) {
        av_log(NULL, AV_LOG_ERROR, "fmp4 muxer: unused options\n");
        ret = AVERROR(EINVAL);
    }
    av_dict_free(&o);
    if (ret < 0) {
        av_log(NULL, AV_LOG_ERROR, "fmp4 header: %s\n", av_err2str(ret));
        goto fail;
    }
    w->header = 1;
    if ((ret = seg_close_file(w)) < 0 || (ret = seg_playlist(w)) < 0)
        goto fail;
    return 0;
fail:
    av_dict_free(&o);
    tc_seg_free(w);
    return ret;
}

double tc_seg_open_length(const struct tc_segwriter *w, int64_t pts)
{
    if (w->seg_start == AV_NOPTS_VALUE || pts == AV_NOPTS_VALUE)
        return 0;
    return (pts - w->seg_start) * av_q2d(w->tb);
}

/* Close the open segment ending at end (tb) and list it. */
static int seg_cut(struct tc_segwriter *w, int64_t end)
{
    double *d;
    int ret;

    if (w->seg_start == AV_NOPTS_VALUE)
        return 0;
    if ((ret = av_write_frame(w->mux, NULL)) < 0 ||  /* moof + mdat */
        (ret = seg_close_file(w)) < 0) {
        av_log(NULL, AV_LOG_ERROR, "writing a segment: %s\n",
               av_err2str(ret));
        return ret;
    }
    if (w->nsegs == w->cap) {
        int cap = w->cap ? 2 * w->cap : 64;
        if (!(d = av_realloc_array(w->durs, (size_t)cap, sizeof(*d))))
            return AVERROR(ENOMEM);
        w->durs = d;
        w->cap = cap;
    }
    w->durs[w->nsegs++] = end > w->seg_start ?
                          (end - w->seg_start) * av_q2d(w->tb) : 0.001;
    w->listed += w->durs[w->nsegs - 1];
    w->bytes += w->seg_bytes;
    w->seg_start = AV_NOPTS_VALUE;
    return seg_playlist(w);
}

int tc_seg_write(struct tc_segwriter *w, AVPacket *pkt, int cut)
{
    char name[32];
    int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    int ret;

    if (cut && w->seg_start != AV_NOPTS_VALUE &&
        (ret = seg_cut(w, pts)) < 0)
        return ret;
    if (w->seg_start == AV_NOPTS_VALUE) {
        snprintf(name, sizeof(name), "seg_%05d.m4s", w->nsegs);
        if ((ret = seg_file(w, name)) < 0)
            return ret;
        w->seg_start = pts;
    }
    if (pts != AV_NOPTS_VALUE && (w->seg_end == AV_NOPTS_VALUE ||
                                  pts + pkt->duration > w->seg_end))
        w->seg_end = pts + pkt->duration;
    pkt->stream_index = 0;
    av_packet_rescale_ts(pkt, w->tb, w->mux->streams[0]->time_base);
    if ((ret = av_write_frame(w->mux, pkt)) < 0)
        av_log(NULL, AV_LOG_ERROR, "muxing: %s\n", av_err2str(ret));
    return ret;
}

int tc_seg_finish(struct tc_segwriter *w)
{
    int ret;

    if ((ret = seg_cut(w, w->seg_end)) < 0)
        return ret;
    w->ended = 1;
    return seg_playlist(w);
}

void tc_seg_free(struct tc_segwriter *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;  /* whatever the trailer writes goes nowhere */
    if (w->header)
        av_write_trailer(w->mux);  /* frees the muxer's fragment buffers */
    avformat_free_context(w->mux);
    if (w->pb) {
        av_freep(&w->pb->buffer);
        avio_context_free(&w->pb);
    }
    av_freep(&w->durs);
    memset(w, 0, sizeof(*w));
    w->fd = -1;
}
