/*
 * test_sniff.c - unit tests of the one content sniffer (src/sniff.c) that
 * uploads and the transcoder share: which first bytes pass as a video
 * container, which are named as something else, and when it asks for more.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sniff.h"
#include "unit.h"

static unsigned char buf[4096];

/* Sniff the first len bytes of buf. */
static enum sniff_result sn(size_t len, int final, const char **why)
{
    return sniff_media(buf, len, final, why);
}

static void put(const void *p, size_t n)
{
    memset(buf, 0, sizeof(buf));
    memcpy(buf, p, n);
}

UNIT_TEST(iso_bmff_boxes_pass_uuid_too)
{
    static const char *const types[] = { "ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "uuid" };
    const char *why;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        memset(buf, 0, sizeof(buf));
        buf[3] = 24;
        memcpy(buf + 4, types[i], 4);
        CHECK_INT(sn(64, 0, &why), SNIFF_MEDIA);
        CHECK(why == NULL);
    }
    put("\0\0\0\x18junk", 8);
    CHECK_INT(sn(64, 1, &why), SNIFF_REFUSED);
}

UNIT_TEST(matroska_and_avi_pass)
{
    const char *why;

    put("\x1a\x45\xdf\xa3\x9f\x42\x86\x81", 8);
    CHECK_INT(sn(4, 0, &why), SNIFF_MEDIA);
    put("RIFF\x10\0\0\0AVI LIST", 16);
    CHECK_INT(sn(16, 0, &why), SNIFF_MEDIA);
    put("RIFF\x10\0\0\0WAVEfmt ", 16);
    CHECK_INT(sn(16, 1, &why), SNIFF_REFUSED);
    CHECK(why && strstr(why, "not a video"));
}

UNIT_TEST(mpegts_needs_two_aligned_packets)
{
    const char *why;

    memset(buf, 0xff, sizeof(buf));
    buf[0] = buf[188] = buf[376] = 0x47;
    CHECK_INT(sn(512, 0, &why), SNIFF_MEDIA);
    CHECK_INT(sn(300, 1, &why), SNIFF_MEDIA);       /* two packets, the file ends */
    CHECK_INT(sn(300, 0, &why), SNIFF_NEED_MORE);   /* the third may not line up */
    CHECK_INT(sn(188, 0, &why), SNIFF_NEED_MORE);
    CHECK_INT(sn(188, 1, &why), SNIFF_REFUSED);     /* one packet is no video */
    CHECK_INT(sn(1, 1, &why), SNIFF_REFUSED);
    CHECK(why && strstr(why, "not a video"));
    buf[376] = 0;
    CHECK_INT(sn(512, 0, &why), SNIFF_REFUSED);
    buf[376] = 0x47;
    buf[188] = 0;
    CHECK_INT(sn(512, 0, &why), SNIFF_REFUSED);
}

UNIT_TEST(empty_file)
{
    const char *why;

    CHECK_INT(sn(0, 0, &why), SNIFF_NEED_MORE);
    CHECK_INT(sn(0, 1, &why), SNIFF_REFUSED);
    CHECK_STR(why, "this file is empty");
}

UNIT_TEST(playlists_are_named)
{
    static const char *const texts[] = {
        "#EXTM3U\n#EXT-X-VERSION:3\n", "\xef\xbb\xbf  \r\n#extm3u\n", "#EXT-X-TARGETDURATION:4\n",
        "#EXTINF:4,\nhttp://x/a.ts\n", "[playlist]\nFile1=http://x/\n", "ffconcat version 1.0\nfile a.mp4\n",
    };
    const char *why;

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        put(texts[i], strlen(texts[i]));
        CHECK_INT(sn(strlen(texts[i]), 0, &why), SNIFF_REFUSED);
        CHECK_STR(why, "this file is a playlist, not a video");
    }
}

UNIT_TEST(scripts_and_pages_are_named)
{
    const char *why;

    put("#!/bin/sh\nrm -rf /\n", 19);
    CHECK_INT(sn(19, 0, &why), SNIFF_REFUSED);
    CHECK_STR(why, "this file is a script, not a video");
    put("<!DOCTYPE html><html>", 21);
    CHECK_INT(sn(21, 0, &why), SNIFF_REFUSED);
    CHECK_STR(why, "this file is a web page or XML document, not a video");
    put("  <svg xmlns='x'>", 17);
    CHECK_INT(sn(17, 1, &why), SNIFF_REFUSED);
    CHECK_STR(why, "this file is a web page or XML document, not a video");
}

UNIT_TEST(short_text_may_still_grow)
{
    const char *why;

    put("#EXTM", 5);
    CHECK_INT(sn(5, 0, &why), SNIFF_NEED_MORE);
    CHECK_INT(sn(5, 1, &why), SNIFF_REFUSED);
    CHECK(why && strstr(why, "not a video Hubcast can read"));
    put("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    CHECK_INT(sn(16, 0, &why), SNIFF_REFUSED);
    /* "G" is also the MPEG-TS sync byte: a GIF is only told at 189 bytes. */
    put("GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff", 16);
    CHECK_INT(sn(16, 0, &why), SNIFF_NEED_MORE);
    CHECK_INT(sn(16, 1, &why), SNIFF_REFUSED);
}

UNIT_TEST(never_asks_for_more_than_sniff_bytes)
{
    const char *why;
    int b;

    /* Blanks only, the worst case for skipping: decided at SNIFF_BYTES. */
    memset(buf, ' ', sizeof(buf));
    CHECK_INT(sn(SNIFF_BYTES - 1, 0, &why), SNIFF_NEED_MORE);
    CHECK_INT(sn(SNIFF_BYTES, 0, &why), SNIFF_REFUSED);
    CHECK(why != NULL);
    for (b = 0; b < 256; b++) {
        memset(buf, b, sizeof(buf));
        CHECK(sn(SNIFF_BYTES, 0, &why) != SNIFF_NEED_MORE);
        CHECK((sn(SNIFF_BYTES, 0, &why) == SNIFF_REFUSED) == (why != NULL));
    }
}

int main(void)
{
    unit_run(iso_bmff_boxes_pass_uuid_too, "sniff: ISO BMFF boxes pass, uuid too");
    unit_run(matroska_and_avi_pass, "sniff: Matroska and AVI pass, WAVE does not");
    unit_run(mpegts_needs_two_aligned_packets, "sniff: MPEG-TS needs two aligned packets");
    unit_run(empty_file, "sniff: an empty file");
    unit_run(playlists_are_named, "sniff: playlists are named");
    unit_run(scripts_and_pages_are_named, "sniff: scripts and web pages are named");
    unit_run(short_text_may_still_grow, "sniff: a short text may still grow");
    unit_run(never_asks_for_more_than_sniff_bytes, "sniff: never asks for more than SNIFF_BYTES");
    return unit_done();
}
