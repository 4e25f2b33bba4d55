/*
 * sniff.c - the one answer to "what is this file", from its first bytes:
 * a container Hubcast reads (ISO BMFF/QuickTime, Matroska/WebM, AVI,
 * MPEG-TS), or something else, named in words when it can be (a
 * playlist, a script, a web page). Uploads call it on the bytes as they
 * arrive; the transcoder calls it again on the stored file before
 * libavformat sees a byte. Free of libav so that both can link it. Not a
 * decision to decode: the transcoder's demuxer allowlist and probe checks
 * (transcoder/input.c) stay the final word.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "sniff.h"

static const char NOT_VIDEO[] =
    "this file is not a video Hubcast can read (MP4, MOV, WebM, MKV, AVI or MPEG-TS)";

static int has_prefix_ci(const unsigned char *buf, size_t len, const char *p)
{
    size_t n = strlen(p);
    return len >= n && !strncasecmp((const char *)buf, p, n);
}

/* ISO base media (mp4, mov, m4a, 3gp): a known box type at offset 4. */
static int is_iso_bmff(const unsigned char *buf, size_t len)
{
    static const char *const boxes[] = {
        "ftyp", "moov", "mdat", "free", "skip", "wide", "pnot", "uuid"
    };

    if (len < 8)
        return 0;
    for (size_t b = 0; b < sizeof(boxes) / sizeof(boxes[0]); b++)
        if (!memcmp(buf + 4, boxes[b], 4))
            return 1;
    return 0;
}

/*
 * MPEG-TS: 188-byte packets, each starting with the sync byte 0x47. Two
 * packets at least; the third must line up too when it is there.
 */
static enum sniff_result mpegts(const unsigned char *buf, size_t len, int final)
{
    if (len <= 188)
        return final ? SNIFF_REFUSED : SNIFF_NEED_MORE;
    if (buf[188] != 0x47)
        return SNIFF_REFUSED;
    if (len > 376)
        return buf[376] == 0x47 ? SNIFF_MEDIA : SNIFF_REFUSED;
    return final ? SNIFF_MEDIA : SNIFF_NEED_MORE;
}

/* Name a text file for what it is; NULL when it is none of these. */
static const char *name_text(const unsigned char *p, size_t n)
{
    if (has_prefix_ci(p, n, "#EXTM3U") || has_prefix_ci(p, n, "#EXT-X-") ||
        has_prefix_ci(p, n, "#EXTINF") || has_prefix_ci(p, n, "[playlist") ||
        has_prefix_ci(p, n, "ffconcat"))
        return "this file is a playlist, not a video";
    if (has_prefix_ci(p, n, "#!"))
        return "this file is a script, not a video";
    if (has_prefix_ci(p, n, "<!doctype") || has_prefix_ci(p, n, "<html") ||
        has_prefix_ci(p, n, "<?xml") || has_prefix_ci(p, n, "<svg"))
        return "this file is a web page or XML document, not a video";
    return NULL;
}

enum sniff_result sniff_media(const unsigned char *buf, size_t len, int final, const char **why)
{
    enum sniff_result r;
    size_t i = 0;

    *why = NULL;
    if (len >= SNIFF_BYTES)
        final = 1;      /* never ask for more than SNIFF_BYTES */
    if (len == 0) {
        if (!final)
            return SNIFF_NEED_MORE;
        *why = "this file is empty";
        return SNIFF_REFUSED;
    }
    if (is_iso_bmff(buf, len))
        return SNIFF_MEDIA;
    if (len >= 4 && buf[0] == 0x1A && buf[1] == 0x45 && buf[2] == 0xDF && buf[3] == 0xA3)
        return SNIFF_MEDIA;         /* EBML: Matroska, WebM */
    if (len >= 12 && !memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "AVI ", 4))
        return SNIFF_MEDIA;
    if (buf[0] == 0x47) {
        if ((r = mpegts(buf, len, final)) == SNIFF_REFUSED)
            *why = NOT_VIDEO;
        return r;
    }
    /* Name what it is, when we can tell. Skip a UTF-8 BOM and blanks. */
    if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if ((*why = name_text(buf + i, len - i)))
        return SNIFF_REFUSED;
    /* A short text may still grow into a name ("#EXTM" -> "#EXTM3U"); an
     * ISO box type needs 8 bytes, AVI 12. */
    if (!final && (len < 12 || len - i < 12))
        return SNIFF_NEED_MORE;
    *why = NOT_VIDEO;
    return SNIFF_REFUSED;
}
