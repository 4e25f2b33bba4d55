/*
 * sniff.c - the first gate for uploads: only byte patterns of the
 * containers the transcoder accepts (ISO BMFF/QuickTime, Matroska/WebM,
 * AVI, MPEG-TS) pass; playlists, scripts and web pages are named as such.
 * The transcoder checks the probed format again before decoding.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "sniff.h"

static int has_prefix_ci(const unsigned char *buf, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && !strncasecmp((const char *)buf, p, n);
}

static const char NOT_VIDEO[] =
    "this file is not a video Hubcast can read (MP4, MOV, WebM, MKV, AVI or MPEG-TS)";

enum sniff_result sniff_media(const unsigned char *buf, size_t len, int final, const char **why)
{
    size_t i = 0;

    *why = NULL;
    if (len == 0) {
        if (!final)
            return SNIFF_NEED_MORE;
        *why = "this file is empty";
        return SNIFF_REFUSED;
    }
    /* ISO base media (mp4, mov, m4a, 3gp): a box type at offset 4. */
    if (len >= 8) {
        static const char *boxes[] = { "ftyp", "moov", "mdat", "free", "wide", "skip", "pnot" };
        for (size_t b = 0; b < sizeof(boxes) / sizeof(boxes[0]); b++)
            if (!memcmp(buf + 4, boxes[b], 4))
                return SNIFF_MEDIA;
    }
    /* Matroska / WebM: the EBML magic. */
    if (len >= 4 && buf[0] == 0x1A && buf[1] == 0x45 && buf[2] == 0xDF && buf[3] == 0xA3)
        return SNIFF_MEDIA;
    /* AVI: RIFF....AVI */
    if (len >= 12 && !memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "AVI ", 4))
        return SNIFF_MEDIA;
    /* MPEG-TS: sync bytes every 188 bytes. */
    if (buf[0] == 0x47) {
        if (len > 188 * 2)
            return buf[188] == 0x47 && buf[376] == 0x47 ? SNIFF_MEDIA : (*why = NOT_VIDEO, SNIFF_REFUSED);
        if (!final)
            return SNIFF_NEED_MORE;
        if (len > 188 && buf[188] == 0x47)
            return SNIFF_MEDIA;
    }
    /* Name what it is, when we can tell. Skip a UTF-8 BOM and blanks. */
    if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (has_prefix_ci(buf + i, len - i, "#EXTM3U") || has_prefix_ci(buf + i, len - i, "#EXT-X-"))
        *why = "this file is a playlist, not a video";
    else if (has_prefix_ci(buf + i, len - i, "ffconcat"))
        *why = "this file is an ffconcat script, not a video";
    else if (has_prefix_ci(buf + i, len - i, "#!"))
        *why = "this file is a script, not a video";
    else if (has_prefix_ci(buf + i, len - i, "<!doctype") || has_prefix_ci(buf + i, len - i, "<html") ||
             has_prefix_ci(buf + i, len - i, "<?xml") || has_prefix_ci(buf + i, len - i, "<svg"))
        *why = "this file is a web page or XML document, not a video";
    else if (len - i < 12 && !final)
        return SNIFF_NEED_MORE;
    else
        *why = NOT_VIDEO;
    return SNIFF_REFUSED;
}
