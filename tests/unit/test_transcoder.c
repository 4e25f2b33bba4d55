/*
 * test_transcoder.c - unit tests for the pure parts of the transcoder:
 * ladder choice, H.264 levels, media playlist measurement, master playlist
 * text, the CODECS string and the rule for timestamp gaps. No media is decoded here; the end-to-end
 * tests in tests/e2e/transcode.test.mjs cover the pipeline.
 */
#include <stdint.h>
#include <string.h>

#include "gap.h"
#include "ladder.h"
#include "playlist.h"
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
    unit_run(gap_up_to_the_limit_is_filled, "gap_up_to_the_limit_is_filled");
    unit_run(gap_past_the_limit_is_refused_with_where_it_is,
             "gap_past_the_limit_is_refused_with_where_it_is");
    return unit_done();
}
