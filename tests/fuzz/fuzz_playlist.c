/*
 * fuzz_playlist.c - libFuzzer target for the playlist side of the
 * transcoder (transcoder/playlist.c): measuring a media playlist written
 * by the hls muxer, the CODECS string from H.264 extradata, and writing a
 * master playlist from rungs whose fields come from the input. The first
 * byte chooses which.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "playlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int size_of(void *opaque, const char *uri, int64_t *bytes)
{
    (void)opaque;
    *bytes = (int64_t)strlen(uri) * 1000;
    return uri[0] == 'x' ? -1 : 0;
}

static void master(const uint8_t *data, size_t size)
{
    struct tc_rung rungs[4];
    struct tc_master_variant v[4];
    char buf[4096];
    size_t bufsz = size ? 64 + data[0] * 16 : 64;
    int n = 0;

    memset(rungs, 0, sizeof(rungs));
    while (n < 4 && size >= 24) {
        memcpy(&rungs[n].width, data, 4);
        memcpy(&rungs[n].height, data + 4, 4);
        memcpy(&rungs[n].bandwidth, data + 8, 4);
        memcpy(&rungs[n].avg_bandwidth, data + 12, 4);
        memcpy(rungs[n].name, data + 16, 8);
        rungs[n].name[7] = '\0';
        memcpy(rungs[n].codecs, "avc1.64001f,mp4a.40.2", 22);
        v[n].rung = &rungs[n];
        v[n].fps = data[0] / 7.0;
        data += 24;
        size -= 24;
        n++;
    }
    if (bufsz > sizeof(buf))
        bufsz = sizeof(buf);
    if (tc_master_format(buf, bufsz, v, n, size & 1 ? "audio/index.m3u8" : NULL) >= (int)bufsz)
        abort();
    if (!memchr(buf, '\0', bufsz))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_playlist_stats st;
    char codecs[32], *text;
    uint8_t *extra;

    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        if (!(text = malloc(size)))
            return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = '\0';
        if (tc_playlist_measure(text, size_of, NULL, &st) == 0 &&
            (st.segments < 0 || st.bytes < 0))
            abort();
        free(text);
        break;
    case 1:
        if (!(extra = malloc(size - 1 ? size - 1 : 1)))
            return 0;
        memcpy(extra, data + 1, size - 1);
        if (tc_codecs_avc1(extra, size - 1, codecs, sizeof(codecs)) == 0 &&
            strncmp(codecs, "avc1.", 5) != 0)
            abort();
        free(extra);
        break;
    default:
        master(data + 1, size - 1);
    }
    return 0;
}
