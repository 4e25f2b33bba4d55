/*
 * test_transcoder.c - unit tests for the pure parts of the transcoder:
 * ladder choice, H.264 levels, media playlist measurement, master playlist
 * text and the CODECS string; for the first-playable pass, the EVENT
 * playlist text, the atomic playlist write, the copy-or-encode rule and the
 * following reader (which must never hand out unconfirmed bytes). No media
 * is decoded here; tests/e2e/transcode.test.mjs and
 * tests/e2e/instant-transcoder.test.mjs cover the pipeline.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/mem.h>

#include "first.h"
#include "follow.h"
#include "ladder.h"
#include "playlist.h"
#include "publish.h"
#include "reuse.h"
#include "segment.h"
#include "gap.h"
#include "trim.h"
#include "unit.h"

UNIT_TEST(ladder_landscape_1080p_gets_four_rungs)
{
    struct tc_ladder_rung r[TC_MAX_RUNGS];

    CHECK_INT(tc_ladder_choose(1920, 1080, 30, r), 4);
    CHECK_INT(r[0].width, 1920); CHECK_INT(r[0].height, 1080);
    CHECK_INT(r[1].width, 1280); CHECK_INT(r[1].height, 720);
    CHECK_INT(r[2].width, 854);  CHECK_INT(r[2].height, 480);
    CHECK_INT(r[3].width, 640);  CHECK_INT(r[3].height, 360);
    CHECK_STR(r[0].name, "1080p");
    CHECK_STR(r[3].name, "360p");
    CHECK_INT(r[0].level, 40);
    CHECK(r[0].maxrate > r[1].maxrate && r[1].maxrate > r[2].maxrate);
    CHECK_INT(r[0].bufsize, 2 * r[0].maxrate);
}

UNIT_TEST(ladder_never_upscales_720p_source)
{
    struct tc_ladder_rung r[TC_MAX_RUNGS];

    CHECK_INT(tc_ladder_choose(1280, 720, 30, r), 3);
    CHECK_INT(r[0].width, 1280);
    CHECK_INT(r[0].height, 720);
    CHECK_STR(r[0].name, "720p");
}

UNIT_TEST(ladder_4k_source_tops_at_1080p)
{
    struct tc_ladder_rung r[TC_MAX_RUNGS];

    CHECK_INT(tc_ladder_choose(3840, 2160, 30, r), 4);
    CHECK_INT(r[0].width, 1920);
    CHECK_INT(r[0].height, 1080);
}

UNIT_TEST(ladder_portrait_uses_width_as_short_side)
{
    struct tc_ladder_rung r[TC_MAX_RUNGS];

    CHECK_INT(tc_ladder_choose(720, 1280, 30, r), 3);
    CHECK_INT(r[0].width, 720);  CHECK_INT(r[0].height, 1280);
    CHECK_INT(r[1].width, 480);  CHECK_INT(r[1].height, 854);
    CHECK_INT(r[2].width, 360);  CHECK_INT(r[2].height, 640);
    CHECK_STR(r[0].name, "720p");
}

UNIT_TEST(ladder_odd_size_gives_even_dimensions)
{
    struct tc_ladder_rung r[TC_MAX_RUNGS];
    int i, n = tc_ladder_choose(641, 361, 30, r);

    CHECK_INT(n, 1);
    CHECK_INT(r[0].width, 640);
    CHECK_INT(r[0].height, 360);
    n = tc_ladder_choose(1921, 1081, 25, r);
    CHECK_INT(n, 4);
    for (i = 0; i < n; i++) {
        CHECK_INT(r[i].width % 2, 0);
        CHECK_INT(r[i].height % 2, 0);
        CHECK(r[i].width <= 1921 && r[i].height <= 1081);
    }
}

UNIT_TEST(ladder_tiny_source_gets_one_rung_at_own_size)
{
    struct tc_ladder_rung r[TC_MAX_RUNGS];

    CHECK_INT(tc_ladder_choose(320, 240, 30, r), 1);
    CHECK_INT(r[0].width, 320);
    CHECK_INT(r[0].height, 240);
    CHECK_STR(r[0].name, "240p");
    CHECK_INT(tc_ladder_choose(175, 99, 30, r), 1);
    CHECK_INT(r[0].width, 174);
    CHECK_INT(r[0].height, 98);
    CHECK_INT(tc_ladder_choose(0, 99, 30, r), -1);
}

UNIT_TEST(h264_level_follows_size_rate_and_bitrate)
{
    CHECK_INT(tc_h264_level(640, 360, 30, 1000000), 30);
    CHECK_INT(tc_h264_level(1280, 720, 30, 3000000), 31);
    CHECK_INT(tc_h264_level(1280, 720, 60, 4000000), 32);
    CHECK_INT(tc_h264_level(1920, 1080, 30, 6000000), 40);
    CHECK_INT(tc_h264_level(1920, 1080, 60, 9000000), 42);
    CHECK_INT(tc_h264_level(1920, 1080, 30, 30000000), 41);
}

/* Sizes for the playlist test: seg_N.m4s is (N+1) * 100000 bytes. */
static int fake_size(void *opaque, const char *uri, int64_t *bytes)
{
    (void)opaque;
    if (strcmp(uri, "seg_00000.m4s") == 0) *bytes = 100000;
    else if (strcmp(uri, "seg_00001.m4s") == 0) *bytes = 200000;
    else if (strcmp(uri, "seg_00002.m4s") == 0) *bytes = 50000;
    else return -1;
    return 0;
}

UNIT_TEST(playlist_measure_peak_and_average)
{
    static const char text[] =
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n"
        "#EXTINF:4.000000,\nseg_00000.m4s\n"
        "#EXTINF:4.000000,\nseg_00001.m4s\n"
        "#EXTINF:1.000000,\r\nseg_00002.m4s\r\n#EXT-X-ENDLIST\n";
    struct tc_playlist_stats st;

    CHECK_INT(tc_playlist_measure(text, fake_size, NULL, &st), 0);
    CHECK_INT(st.segments, 3);
    CHECK_INT(st.bytes, 350000);
    CHECK_INT((long)(st.duration * 1000), 9000);
    /* seg 2: 50000*8/1 = 400000 b/s is the peak */
    CHECK_INT((long)st.peak_bps, 400000);
    CHECK_INT((long)st.avg_bps, 311111);
}

UNIT_TEST(playlist_measure_rejects_non_playlists)
{
    struct tc_playlist_stats st;

    CHECK_INT(tc_playlist_measure("hello\n", fake_size, NULL, &st), -1);
    CHECK_INT(tc_playlist_measure("#EXTM3U\n#EXTINF:4,\nmissing.m4s\n",
                                  fake_size, NULL, &st), -1);
    CHECK_INT(tc_playlist_measure("#EXTM3U\n", fake_size, NULL, &st), -1);
}

UNIT_TEST(master_playlist_with_audio_rendition)
{
    struct tc_rung r[2] = {
        { 1280, 720, 3000000, 2000000, "avc1.64001f,mp4a.40.2", "720p" },
        { 640, 360, 1000000, 700000, "avc1.64001e,mp4a.40.2", "360p" },
    };
    struct tc_master_variant v[2] = { { &r[0], 29.97 }, { &r[1], 29.97 } };
    static const char expected[] =
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"Audio\","
        "DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/index.m3u8\"\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2000000,"
        "RESOLUTION=1280x720,FRAME-RATE=29.970,"
        "CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"audio\"\n720p/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1000000,AVERAGE-BANDWIDTH=700000,"
        "RESOLUTION=640x360,FRAME-RATE=29.970,"
        "CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"audio\"\n360p/index.m3u8\n";
    char buf[2048];
    int n = tc_master_format(buf, sizeof(buf), v, 2, "audio/index.m3u8");

    CHECK(n > 0);
    /* compared whole: the text is what players read */
    CHECK(strcmp(buf, expected) == 0);
    CHECK_INT(n, (int)strlen(buf));
}

UNIT_TEST(master_playlist_without_audio_and_too_small_buffer)
{
    struct tc_rung r = { 320, 240, 500000, 400000, "avc1.42c00d", "240p" };
    struct tc_master_variant v = { &r, 60 };
    char buf[512], tiny[40];

    CHECK(tc_master_format(buf, sizeof(buf), &v, 1, NULL) > 0);
    CHECK(strstr(buf, "EXT-X-MEDIA") == NULL);
    CHECK(strstr(buf, "AUDIO=") == NULL);
    CHECK(strstr(buf, "FRAME-RATE=60.000,CODECS=\"avc1.42c00d\"\n") != NULL);
    CHECK_INT(tc_master_format(tiny, sizeof(tiny), &v, 1, NULL), -1);
}

UNIT_TEST(codecs_string_from_avcc_and_annexb)
{
    static const uint8_t avcc[] = { 1, 0x64, 0x00, 0x1f, 0xff, 0xe1 };
    static const uint8_t annexb[] = { 0, 0, 0, 1, 0x67, 0x64, 0x00, 0x28,
                                      0xac, 0, 0, 1, 0x68, 0xee };
    static const uint8_t base[] = { 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0x00 };
    static const uint8_t junk[] = { 0, 0, 1, 0x68, 0xee, 0x3c, 0x80 };
    char s[32];

    CHECK_INT(tc_codecs_avc1(avcc, sizeof(avcc), s, sizeof(s)), 0);
    CHECK_STR(s, "avc1.64001f");
    CHECK_INT(tc_codecs_avc1(annexb, sizeof(annexb), s, sizeof(s)), 0);
    CHECK_STR(s, "avc1.640028");
    CHECK_INT(tc_codecs_avc1(base, sizeof(base), s, sizeof(s)), 0);
    CHECK_STR(s, "avc1.42c01e");
    CHECK_INT(tc_codecs_avc1(junk, sizeof(junk), s, sizeof(s)), -1);
    CHECK_STR(s, "");
    CHECK_INT(tc_codecs_avc1(NULL, 0, s, sizeof(s)), -1);
}


UNIT_TEST(event_playlist_grows_then_ends)
{
    static const double d[3] = { 2.0, 2.002, 1.5 };
    static const char head[] =
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:3\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n"
        "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n";
    char *t = tc_event_playlist(d, 0, 0);

    /* empty: a valid playlist with no segment and no end */
    CHECK(t && strstr(t, "#EXT-X-TARGETDURATION:2\n") != NULL);
    CHECK(t && strstr(t, "#EXTINF") == NULL && strstr(t, "ENDLIST") == NULL);
    av_free(t);
    t = tc_event_playlist(d, 2, 0);
    CHECK(t && strncmp(t, head, strlen(head)) == 0);
    CHECK(t && strcmp(t + strlen(head), "#EXTINF:2.000000,\nseg_00000.m4s\n"
                      "#EXTINF:2.002000,\nseg_00001.m4s\n") == 0);
    av_free(t);
    t = tc_event_playlist(d, 3, 1);
    CHECK(t && strstr(t, "seg_00002.m4s\n#EXT-X-ENDLIST\n") != NULL);
    CHECK(t && t[strlen(t) - 1] == '\n');
    av_free(t);
}

UNIT_TEST(playlist_written_atomically_by_rename)
{
    char dir[] = "/tmp/hubcast-unit-XXXXXX", path[64], buf[32];
    int dfd, fd;
    ssize_t n;
    struct stat sb;

    CHECK(mkdtemp(dir) != NULL);
    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(dfd >= 0);
    CHECK_INT(tc_write_atomic(dfd, "index.m3u8", "old\n", 4), 0);
    /* a reader holding the old file keeps reading the old text */
    snprintf(path, sizeof(path), "%s/index.m3u8", dir);
    fd = open(path, O_RDONLY);
    CHECK_INT(tc_write_atomic(dfd, "index.m3u8", "new text\n", 9), 0);
    n = read(fd, buf, sizeof(buf));
    CHECK_INT(n, 4);
    close(fd);
    fd = open(path, O_RDONLY);
    n = read(fd, buf, sizeof(buf));
    CHECK_INT(n, 9);
    close(fd);
    snprintf(path, sizeof(path), "%s/index.m3u8.tmp", dir);
    CHECK(stat(path, &sb) < 0);  /* no temporary left */
    close(dfd);
    tc_work_remove(dir);
}

/* A probe of a video that may be copied: 720p Chromium H.264. */
static struct tc_copy_probe copyable(void)
{
    struct tc_copy_probe p = { 1, 1, 1280, 720, 1, 1, 0, 1, 0, 2500000 };
    return p;
}

UNIT_TEST(first_copies_only_qualifying_h264)
{
    struct tc_copy_probe p = copyable();

    CHECK(tc_first_copy_refusal(&p) == NULL);
    p.fps = 30;
    CHECK(tc_first_copy_refusal(&p) == NULL);
    p.width = 1080; p.height = 1920;  /* portrait 1080p */
    p.bps = 5000000;
    CHECK(tc_first_copy_refusal(&p) == NULL);
    p = copyable(); p.h264 = 0;
    CHECK_STR(tc_first_copy_refusal(&p), "not H.264");
    p = copyable(); p.width = 2560; p.height = 1440;
    CHECK_STR(tc_first_copy_refusal(&p), "larger than 1080p");
    p = copyable(); p.yuv420p8 = 0;
    CHECK_STR(tc_first_copy_refusal(&p), "not 8-bit 4:2:0");
    p = copyable(); p.rotation = 90;
    CHECK_STR(tc_first_copy_refusal(&p), "rotated");
    p = copyable(); p.progressive = 0;
    CHECK_STR(tc_first_copy_refusal(&p), "interlaced");
    p = copyable(); p.has_extradata = 0;
    CHECK(tc_first_copy_refusal(&p) != NULL);
    p = copyable(); p.fps = 120;
    CHECK(tc_first_copy_refusal(&p) != NULL);
    /* 720p30 top rung: maxrate 0.10 x 1280 x 720 x 30 = 2764800 b/s */
    p = copyable(); p.bps = 2764800;
    CHECK(tc_first_copy_refusal(&p) == NULL);
    p.bps = 2764801;
    CHECK_STR(tc_first_copy_refusal(&p), "above the top rung's maxrate");
}

UNIT_TEST(first_expects_slow_above_1080p30)
{
    CHECK_INT(tc_first_expect_slow(1920, 1080, 30), 0);
    CHECK_INT(tc_first_expect_slow(1920, 1088, 30000.0 / 1001), 0);
    CHECK_INT(tc_first_expect_slow(1080, 1920, 30), 0);      /* portrait */
    CHECK_INT(tc_first_expect_slow(1280, 720, 60), 0);
    CHECK_INT(tc_first_expect_slow(640, 360, 0), 0);         /* rate unknown */
    CHECK_INT(tc_first_expect_slow(1920, 1080, 60), 1);      /* 1080p60 */
    CHECK_INT(tc_first_expect_slow(1920, 1080, 50), 1);
    CHECK_INT(tc_first_expect_slow(2560, 1440, 24), 1);
    CHECK_INT(tc_first_expect_slow(3840, 2160, 30), 1);      /* 4K */
    CHECK_INT(tc_first_expect_slow(2160, 3840, 0), 1);       /* 4K portrait, rate unknown */
    CHECK_INT(tc_first_expect_slow(0, 0, 30), 0);            /* size unknown */
}

/* The confirmed length a test hands the reader. */
struct fake_upload {
    int64_t confirmed;
    enum tc_follow_state state;
    int     calls;
};

static enum tc_follow_state fake_length(void *opaque, int64_t *confirmed)
{
    struct fake_upload *u = opaque;

    u->calls++;
    /* the upload grows by 100 bytes every other call, up to 1000 */
    if (u->state == TC_FOLLOW_GROWING && u->calls % 2 == 0)
        u->confirmed += 100;
    if (u->confirmed >= 1000) {
        u->confirmed = 1000;
        u->state = TC_FOLLOW_FINISHED;
    }
    *confirmed = u->confirmed;
    return u->state;
}

/* A 1000-byte file of i & 0xff; returns an fd. */
static int thousand_bytes(char *path)
{
    unsigned char b[1000];
    int i, fd = mkstemp(path);

    for (i = 0; i < 1000; i++)
        b[i] = (unsigned char)i;
    if (fd >= 0 && write(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
        close(fd);
        return -1;
    }
    return fd;
}

UNIT_TEST(reader_never_reads_past_the_confirmed_length)
{
    char path[] = "/tmp/hubcast-unit-XXXXXX";
    struct fake_upload u = { 250, TC_FOLLOW_GROWING, 0 };
    struct tc_follow f = { fake_length, &u, -1 };
    AVIOContext *pb = NULL;
    unsigned char buf[2000];
    int fd = thousand_bytes(path), n, total = 0, ok = 1;

    CHECK(fd >= 0);
    CHECK_INT(tc_reader_open(fd, &f, NULL, &pb), 0);
    CHECK_INT(tc_reader_growing(pb), 1);
    /* the file holds 1000 bytes, but only 250 are confirmed */
    n = avio_read_partial(pb, buf, sizeof(buf));
    CHECK(n > 0 && n <= 250);
    total = n;
    while ((n = avio_read_partial(pb, buf + total, sizeof(buf) - total)) > 0)
        total += n;
    CHECK_INT(total, 1000);
    for (n = 0; n < total; n++)
        ok &= buf[n] == (unsigned char)n;
    CHECK(ok);
    /* it waited for the bytes, and counted that time (not work) */
    CHECK(tc_reader_waited(pb) > 0);
    CHECK_INT(tc_reader_growing(pb), 0);
    CHECK(avio_feof(pb));
    /* once finished, the size is known and seeking works */
    CHECK_INT(avio_size(pb), 1000);
    CHECK_INT(avio_seek(pb, 10, SEEK_SET), 10);
    CHECK_INT(avio_r8(pb), 10);
    tc_reader_close(&pb);
    CHECK(pb == NULL);
    close(fd);
    unlink(path);
}

UNIT_TEST(reader_stops_when_the_upload_is_gone)
{
    char path[] = "/tmp/hubcast-unit-XXXXXX";
    struct fake_upload u = { 100, TC_FOLLOW_GONE, 0 };
    struct tc_follow f = { fake_length, &u, -1 };
    AVIOContext *pb = NULL;
    unsigned char buf[256];
    int fd = thousand_bytes(path), n;

    CHECK(fd >= 0);
    CHECK_INT(tc_reader_open(fd, &f, NULL, &pb), 0);
    n = avio_read(pb, buf, sizeof(buf));
    CHECK_INT(n, AVERROR_EXIT);  /* nothing unconfirmed handed out */
    CHECK_INT(tc_reader_gone(pb), 1);
    tc_reader_close(&pb);
    close(fd);
    unlink(path);
}

/* Interrupt callback that fires at once: the deadline has passed. */
static int expired(void *opaque)
{
    (void)opaque;
    return 1;
}

UNIT_TEST(reader_waiting_gives_up_at_the_deadline)
{
    char path[] = "/tmp/hubcast-unit-XXXXXX";
    struct fake_upload u = { 0, TC_FOLLOW_GROWING, 0 };
    struct tc_follow f = { fake_length, &u, -1 };
    AVIOInterruptCB icb = { expired, NULL };
    AVIOContext *pb = NULL;
    unsigned char buf[16];
    int fd = thousand_bytes(path);

    /* the first call (odd) does not grow it: the reader has to wait */
    CHECK(fd >= 0);
    CHECK_INT(tc_reader_open(fd, &f, &icb, &pb), 0);
    CHECK_INT(avio_read(pb, buf, sizeof(buf)), AVERROR_EXIT);
    /* the size of a growing file is unknown at once, not after the end */
    CHECK(avio_size(pb) < 0);
    CHECK_INT(tc_reader_growing(pb), 1);
    tc_reader_close(&pb);
    /* a complete file: no callback, its size is final */
    CHECK_INT(tc_reader_open(fd, NULL, NULL, &pb), 0);
    CHECK_INT(tc_reader_growing(pb), 0);
    CHECK_INT(avio_size(pb), 1000);
    CHECK_INT(avio_read(pb, buf, sizeof(buf)), (int)sizeof(buf));
    CHECK(tc_reader_waited(pb) == 0);   /* never waits for a complete file */
    tc_reader_close(&pb);
    close(fd);
    unlink(path);
}

/* Write text to dir/name. */
static void put_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((fp = fopen(path, "w"))) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* A new folder dir (a mkdtemp template) with video/ in it, whose path
 * goes into sub; the folder open, or -1. */
static int reuse_folder(char *dir, char *sub, size_t subsz)
{
    if (!mkdtemp(dir))
        return -1;
    snprintf(sub, subsz, "%s/video", dir);
    if (mkdir(sub, 0755) < 0)
        return -1;
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

UNIT_TEST(reuse_takes_only_an_ended_copied_first_rendition)
{
    char dir[] = "/tmp/hubcast-unit-XXXXXX", sub[64];
    static const char master[] =
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=1280x720,"
        "CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"audio\"\nvideo/index.m3u8\n";
    static const char event[] =
        "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:2.000000,\n"
        "seg_00000.m4s\n#EXTINF:1.900000,\nseg_00001.m4s\n"
        "#EXTINF:2.100000,\nseg_00002.m4s\n";
    char text[512];
    struct tc_reuse r;
    int fd;

    CHECK((fd = reuse_folder(dir, sub, sizeof(sub))) >= 0);
    put_file(dir, "master.m3u8", master);
    put_file(sub, "index.m3u8", event);
    /* encoded, not copied: no tag */
    CHECK_INT(tc_reuse_load(fd, &r), -1);
    snprintf(text, sizeof(text), "%s%s", master, TC_REUSE_TAG);
    put_file(dir, "master.m3u8", text);
    /* copied, but still growing */
    CHECK_INT(tc_reuse_load(fd, &r), -1);
    snprintf(text, sizeof(text), "%s#EXT-X-ENDLIST\n", event);
    put_file(sub, "index.m3u8", text);
    CHECK_INT(tc_reuse_load(fd, &r), 0);
    CHECK_INT(r.width, 1280);
    CHECK_INT(r.height, 720);
    CHECK_STR(r.codecs, "avc1.64001f");
    CHECK_INT(r.nkeys, 3);
    CHECK(r.nkeys == 3 && r.keys[0] == 0 && r.keys[1] == 2.0 &&
          r.keys[2] > 3.899 && r.keys[2] < 3.901);
    tc_reuse_free(&r);
    CHECK(r.keys == NULL);
    close(fd);
    tc_work_remove(dir);
}

UNIT_TEST(reuse_takes_an_encode_only_at_the_ladders_settings)
{
    char dir[] = "/tmp/hubcast-unit-XXXXXX", sub[64];
    static const char master[] =
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=854x480,"
        "FRAME-RATE=30.000,CODECS=\"avc1.64001e,mp4a.40.2\",AUDIO=\"audio\"\n"
        "video/index.m3u8\n";
    char text[512];
    struct tc_reuse r;
    int fd;

    CHECK((fd = reuse_folder(dir, sub, sizeof(sub))) >= 0);
    CHECK_INT(tc_reuse_kind(fd), -1);       /* nothing yet */
    put_file(dir, "master.m3u8", master);
    CHECK_INT(tc_reuse_kind(fd), 0);        /* an encode of its own */
    snprintf(text, sizeof(text), "%s%sx264 veryfast crf 23\"\n", master,
             TC_REUSE_DATA);
    put_file(dir, "master.m3u8", text);
    CHECK_INT(tc_reuse_kind(fd), 2);
    put_file(sub, "index.m3u8", "#EXTM3U\n#EXTINF:2.000000,\nseg_00000.m4s\n"
             "#EXTINF:1.500000,\nseg_00001.m4s\n#EXT-X-ENDLIST\n");
    CHECK_INT(tc_reuse_load(fd, &r), 0);
    CHECK_STR(r.how, "x264 veryfast crf 23");
    CHECK(r.fps > 29.999 && r.fps < 30.001);
    CHECK_INT(r.nkeys, 2);
    CHECK_INT(tc_reuse_fits(&r, "veryfast", 23, 30.0), 1);
    CHECK_INT(tc_reuse_fits(&r, "veryfast", 23, 30000.0 / 1001), 0);
    CHECK_INT(tc_reuse_fits(&r, "veryfast", 22, 30.0), 0);
    CHECK_INT(tc_reuse_fits(&r, "medium", 23, 30.0), 0);
    CHECK_INT(tc_reuse_fits(&r, NULL, 23, 30.0), 0);
    tc_reuse_free(&r);
    /* a copy fits whatever the ladder's settings */
    snprintf(text, sizeof(text), "%s%s", master, TC_REUSE_TAG);
    put_file(dir, "master.m3u8", text);
    CHECK_INT(tc_reuse_kind(fd), 1);
    CHECK_INT(tc_reuse_load(fd, &r), 0);
    CHECK_STR(r.how, "remux");
    CHECK_INT(tc_reuse_fits(&r, "medium", 18, 25.0), 1);
    tc_reuse_free(&r);
    /* a VALUE that does not end is none */
    snprintf(text, sizeof(text), "%s%sx264 veryfast\n", master, TC_REUSE_DATA);
    put_file(dir, "master.m3u8", text);
    CHECK_INT(tc_reuse_load(fd, &r), -1);
    close(fd);
    tc_work_remove(dir);
}

UNIT_TEST(gap_up_to_the_limit_is_filled)
{
    char err[256] = "";

    CHECK_INT(tc_gap_check(-1, 7100, TC_MAX_GAP_SECONDS, err, sizeof(err)), 0);
    CHECK_INT(tc_gap_check(0, 1.0 / 30, TC_MAX_GAP_SECONDS, err, sizeof(err)), 0);
    CHECK_INT(tc_gap_check(10, 70, TC_MAX_GAP_SECONDS, err, sizeof(err)), 0);
    CHECK_INT(tc_gap_check(10, 5, TC_MAX_GAP_SECONDS, err, sizeof(err)), 0);
    CHECK_STR(err, "");
}

UNIT_TEST(gap_past_the_limit_is_refused_with_where_it_is)
{
    char err[256] = "";

    CHECK_INT(tc_gap_check(10, 70.01, TC_MAX_GAP_SECONDS, err, sizeof(err)), -1);
    CHECK_STR(err, "the video has no picture for 60 seconds (from 0:00:10 to "
                   "0:01:10); Hubcast fills gaps of at most 60 seconds");
    CHECK_INT(tc_gap_check(0.0833, 7100, TC_MAX_GAP_SECONDS, err, sizeof(err)), -1);
    CHECK_STR(err, "the video has no picture for 7099 seconds (from 0:00:00 to "
                   "1:58:20); Hubcast fills gaps of at most 60 seconds");
}

UNIT_TEST(trim_keeps_the_frames_of_the_span)
{
    struct tc_trim all = { 0, 0 }, t = { 5, 25 };

    CHECK(!tc_trim_active(&all));
    CHECK(tc_trim_active(&t));
    CHECK_INT(tc_trim_video(&all, 1234, 30), 0);
    CHECK_INT(tc_trim_video(&t, 4.9, 30), -1);
    CHECK_INT(tc_trim_video(&t, 4.99, 30), 0);   /* within half a frame */
    CHECK_INT(tc_trim_video(&t, 5.0, 30), 0);
    CHECK_INT(tc_trim_video(&t, 24.95, 30), 0);
    CHECK_INT(tc_trim_video(&t, 24.99, 30), 1);
    CHECK_INT(tc_trim_video(&t, 25.0, 30), 1);
    CHECK(tc_trim_length(&t, 30) == 20);
    CHECK(tc_trim_length(&t, 0) == 20);
    CHECK(tc_trim_length(&t, 18) == 13);
    CHECK(tc_trim_length(&all, 30) == 30);
}

UNIT_TEST(trim_cuts_audio_frames_at_the_sample)
{
    struct tc_trim t = { 5, 25 };
    int skip, keep;

    /* wholly before, straddling the start, inside, straddling the end, after */
    CHECK_INT(tc_trim_audio(&t, 4.0, 960, 48000, &skip, &keep), 0);
    CHECK_INT(keep, 0);
    CHECK_INT(tc_trim_audio(&t, 4.99, 960, 48000, &skip, &keep), 0);
    CHECK_INT(skip, 480);
    CHECK_INT(keep, 480);
    CHECK_INT(tc_trim_audio(&t, 10, 960, 48000, &skip, &keep), 0);
    CHECK_INT(skip, 0);
    CHECK_INT(keep, 960);
    CHECK_INT(tc_trim_audio(&t, 24.99, 960, 48000, &skip, &keep), 0);
    CHECK_INT(skip, 0);
    CHECK_INT(keep, 480);
    CHECK_INT(tc_trim_audio(&t, 25, 960, 48000, &skip, &keep), 1);
    CHECK_INT(keep, 0);
}

int main(void)
{
    unit_run(ladder_landscape_1080p_gets_four_rungs,
             "ladder_landscape_1080p_gets_four_rungs");
    unit_run(ladder_never_upscales_720p_source,
             "ladder_never_upscales_720p_source");
    unit_run(ladder_4k_source_tops_at_1080p, "ladder_4k_source_tops_at_1080p");
    unit_run(ladder_portrait_uses_width_as_short_side,
             "ladder_portrait_uses_width_as_short_side");
    unit_run(ladder_odd_size_gives_even_dimensions,
             "ladder_odd_size_gives_even_dimensions");
    unit_run(ladder_tiny_source_gets_one_rung_at_own_size,
             "ladder_tiny_source_gets_one_rung_at_own_size");
    unit_run(h264_level_follows_size_rate_and_bitrate,
             "h264_level_follows_size_rate_and_bitrate");
    unit_run(playlist_measure_peak_and_average,
             "playlist_measure_peak_and_average");
    unit_run(playlist_measure_rejects_non_playlists,
             "playlist_measure_rejects_non_playlists");
    unit_run(master_playlist_with_audio_rendition,
             "master_playlist_with_audio_rendition");
    unit_run(master_playlist_without_audio_and_too_small_buffer,
             "master_playlist_without_audio_and_too_small_buffer");
    unit_run(codecs_string_from_avcc_and_annexb,
             "codecs_string_from_avcc_and_annexb");
    unit_run(event_playlist_grows_then_ends, "event_playlist_grows_then_ends");
    unit_run(playlist_written_atomically_by_rename,
             "playlist_written_atomically_by_rename");
    unit_run(first_copies_only_qualifying_h264,
             "first_copies_only_qualifying_h264");
    unit_run(first_expects_slow_above_1080p30, "first_expects_slow_above_1080p30");
    unit_run(reader_never_reads_past_the_confirmed_length,
             "reader_never_reads_past_the_confirmed_length");
    unit_run(reader_stops_when_the_upload_is_gone,
             "reader_stops_when_the_upload_is_gone");
    unit_run(reader_waiting_gives_up_at_the_deadline,
             "reader_waiting_gives_up_at_the_deadline");
    unit_run(reuse_takes_only_an_ended_copied_first_rendition,
             "reuse_takes_only_an_ended_copied_first_rendition");
    unit_run(reuse_takes_an_encode_only_at_the_ladders_settings,
             "reuse_takes_an_encode_only_at_the_ladders_settings");
    unit_run(gap_up_to_the_limit_is_filled, "gap_up_to_the_limit_is_filled");
    unit_run(gap_past_the_limit_is_refused_with_where_it_is,
             "gap_past_the_limit_is_refused_with_where_it_is");
    unit_run(trim_keeps_the_frames_of_the_span, "trim_keeps_the_frames_of_the_span");
    unit_run(trim_cuts_audio_frames_at_the_sample, "trim_cuts_audio_frames_at_the_sample");
    return unit_done();
}
