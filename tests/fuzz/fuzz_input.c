/*
 * fuzz_input.c - libFuzzer target for the transcoder's safe-input path
 * (transcoder/input.c): the bytes are stored as a file and opened the way
 * a worker opens an upload (sniff, demuxer allowlist, caps, probe), then
 * up to 300 packets are read. Seeds are made with ffmpeg when the fuzzers
 * run (tests/fuzz/run.sh): MP4, WebM, Matroska with a timestamp gap,
 * MPEG-TS with a resolution change, AVI.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>
#include <libavutil/time.h>

#include "input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    int fd;

    (void)argc;
    (void)argv;
    av_log_set_level(AV_LOG_QUIET);
    snprintf(path, sizeof(path), "/tmp/hubcast-fuzz-input-XXXXXX");
    if ((fd = mkstemp(path)) < 0)
        abort();
    close(fd);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_limits lim;
    struct tc_input *in = NULL;
    AVPacket *pkt;
    char err[256];
    FILE *f = fopen(path, "wb");

    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    tc_limits_default(&lim);
    err[0] = '\0';
    if (tc_input_open(path, &lim, av_gettime() + 5 * 1000000LL, &in, err, sizeof(err)) < 0) {
        if (in || !err[0])
            abort();    /* a refusal leaves nothing open and says why */
        return 0;
    }
    if (in->width <= 0 || in->height <= 0 || in->width > lim.max_side || in->height > lim.max_side)
        abort();
    if ((pkt = av_packet_alloc())) {
        for (int i = 0; i < 300 && tc_input_read(in, pkt) >= 0; i++)
            av_packet_unref(pkt);
        av_packet_free(&pkt);
    }
    tc_input_close(&in);
    return 0;
}
