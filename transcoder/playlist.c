/*
 * playlist.c - measuring media playlists and writing the master playlist;
 * see playlist.h. Pure text handling, no libav, no direct file access.
 */
#include "playlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copy the line starting at p (without its end of line) into line. */
static const char *next_line(const char *p, char *line, size_t linesz)
{
    size_t n = strcspn(p, "\r\n");
    size_t k = n < linesz - 1 ? n : linesz - 1;

    memcpy(line, p, k);
    line[k] = '\0';
    p += n;
    if (*p == '\r')
        p++;
    if (*p == '\n')
        p++;
    return p;
}

int tc_playlist_measure(const char *text, tc_size_fn size_of, void *opaque,
                        struct tc_playlist_stats *st)
{
    char line[1024];
    const char *p = text;
    double extinf = -1.0;

    memset(st, 0, sizeof(*st));
    p = next_line(p, line, sizeof(line));
    if (strcmp(line, "#EXTM3U") != 0)
        return -1;
    while (*p) {
        p = next_line(p, line, sizeof(line));
        if (strncmp(line, "#EXTINF:", 8) == 0) {
            char *end;
            extinf = strtod(line + 8, &end);
            if (end == line + 8 || extinf < 0)
                return -1;
        } else if (line[0] != '#' && line[0] != '\0') {
            int64_t bytes = 0;
            if (extinf < 0 || size_of(opaque, line, &bytes) < 0)
                return -1;
            st->segments++;
            st->duration += extinf;
            st->bytes += bytes;
            if (extinf > st->max_extinf)
                st->max_extinf = extinf;
            if (extinf > 0 && bytes * 8.0 / extinf > st->peak_bps)
                st->peak_bps = bytes * 8.0 / extinf;
            extinf = -1.0;
        }
    }
    if (st->segments == 0 || st->duration <= 0)
        return -1;
    st->avg_bps = st->bytes * 8.0 / st->duration;
    return 0;
}

/* Append formatted text at *off; remembers overflow in *off = bufsz. */
static void put(char *buf, size_t bufsz, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t bufsz, size_t *off, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*off >= bufsz)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *off, bufsz - *off, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= bufsz - *off)
        *off = bufsz;
    else
        *off += (size_t)n;
}

int tc_master_format(char *buf, size_t bufsz,
                     const struct tc_master_variant *v, int n,
                     const char *audio_uri)
{
    size_t off = 0;
    int i;

    if (bufsz == 0)
        return -1;
    buf[0] = '\0';
    put(buf, bufsz, &off, "#EXTM3U\n#EXT-X-VERSION:7\n"
        "#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (audio_uri)
        put(buf, bufsz, &off, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\","
            "NAME=\"Audio\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\","
            "URI=\"%s\"\n", audio_uri);
    for (i = 0; i < n; i++) {
        const struct tc_rung *r = v[i].rung;
        put(buf, bufsz, &off, "#EXT-X-STREAM-INF:BANDWIDTH=%d,"
            "AVERAGE-BANDWIDTH=%d,RESOLUTION=%dx%d,FRAME-RATE=%.3f,"
            "CODECS=\"%s\"%s\n%s/index.m3u8\n",
            r->bandwidth, r->avg_bandwidth, r->width, r->height, v[i].fps,
            r->codecs, audio_uri ? ",AUDIO=\"audio\"" : "", r->name);
    }
    return off >= bufsz ? -1 : (int)off;
}

/* Write "avc1.PPCCLL" from the three SPS bytes after the NAL header. */
static int avc1_from_sps(const uint8_t *sps3, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "avc1.%02x%02x%02x",
                     sps3[0], sps3[1], sps3[2]);
    return n > 0 && (size_t)n < outsz ? 0 : -1;
}

int tc_codecs_avc1(const uint8_t *extra, size_t size, char *out,
                   size_t outsz)
{
    size_t i;

    if (outsz > 0)
        out[0] = '\0';
    if (!extra || size < 4 || outsz == 0)
        return -1;
    if (extra[0] == 1)  /* avcC: version, profile, compat, level */
        return avc1_from_sps(extra + 1, out, outsz);
    for (i = 0; i + 3 < size; i++) {  /* Annex B: start code, NAL type 7 */
        if (extra[i] == 0 && extra[i + 1] == 0 && extra[i + 2] == 1) {
            size_t h = i + 3;
            if ((extra[h] & 0x1f) == 7 && h + 3 < size)
                return avc1_from_sps(extra + h + 1, out, outsz);
        }
    }
    return -1;
}
