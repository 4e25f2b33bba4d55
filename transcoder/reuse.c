/*
 * reuse.c - taking a copied first rendition over as the top rung; see
 * reuse.h.
 */
#include "reuse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REUSE_MAX_TEXT (4 << 20)

/* Read name below dirfd into a NUL-terminated malloc'd string; NULL on
 * failure or when it is larger than any playlist we write. */
static char *slurp(int dirfd, const char *name)
{
    char *text = NULL;
    size_t n = 0;
    ssize_t r;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return NULL;
    if ((text = malloc(REUSE_MAX_TEXT))) {
        while (n < REUSE_MAX_TEXT &&
               ((r = read(fd, text + n, REUSE_MAX_TEXT - n)) > 0 ||
                (r < 0 && errno == EINTR)))
            n += r > 0 ? (size_t)r : 0;
        if (r < 0 || n >= REUSE_MAX_TEXT) {
            free(text);
            text = NULL;
        } else {
            text[n] = '\0';
        }
    }
    close(fd);
    return text;
}

/* The master's VALUE, RESOLUTION, FRAME-RATE and video CODECS. 0 or -1. */
static int reuse_master(const char *text, struct tc_reuse *r)
{
    const char *p;
    size_t n;

    if (!(p = strstr(text, TC_REUSE_DATA)))
        return -1;
    p += strlen(TC_REUSE_DATA);
    n = strcspn(p, "\"\n");
    if (n == 0 || n >= sizeof(r->how) || p[n] != '"')
        return -1;
    memcpy(r->how, p, n);
    r->how[n] = '\0';
    if ((p = strstr(text, "FRAME-RATE=")))
        r->fps = strtod(p + 11, NULL);
    if (!(p = strstr(text, "RESOLUTION=")) ||
        sscanf(p, "RESOLUTION=%dx%d", &r->width, &r->height) != 2 ||
        !(p = strstr(text, "CODECS=\"avc1.")))
        return -1;
    p += 8;
    n = strcspn(p, ",\"");
    if (n == 0 || n >= sizeof(r->codecs))
        return -1;
    memcpy(r->codecs, p, n);
    r->codecs[n] = '\0';
    return 0;
}

/* Segment start times from an ended media playlist. 0 or -1. */
static int reuse_keys(const char *text, struct tc_reuse *r)
{
    const char *p = text;
    double t = 0;
    int cap = 0;

    if (!strstr(text, "#EXT-X-ENDLIST"))
        return -1;  /* still growing: nothing to take over yet */
    while ((p = strstr(p, "#EXTINF:"))) {
        double d = strtod(p + 8, NULL);
        if (d <= 0)
            return -1;
        if (r->nkeys == cap) {
            double *k = realloc(r->keys, (size_t)(cap = cap ? 2 * cap : 256) *
                                         sizeof(*k));
            if (!k)
                return -1;
            r->keys = k;
        }
        r->keys[r->nkeys++] = t;
        t += d;
        p += 8;
    }
    return r->nkeys > 0 ? 0 : -1;
}

int tc_reuse_load(int dirfd, struct tc_reuse *r)
{
    char *text;
    int ret = -1;

    memset(r, 0, sizeof(*r));
    if ((text = slurp(dirfd, "master.m3u8"))) {
        ret = reuse_master(text, r);
        free(text);
    }
    if (ret == 0 && (text = slurp(dirfd, "video/index.m3u8"))) {
        ret = reuse_keys(text, r);
        free(text);
    } else {
        ret = -1;
    }
    if (ret < 0)
        tc_reuse_free(r);
    return ret;
}

int tc_reuse_kind_text(const char *master)
{
    if (strstr(master, TC_REUSE_TAG))
        return 1;
    return strstr(master, TC_REUSE_DATA) ? 2 : 0;
}

int tc_reuse_kind(int dirfd)
{
    char *text = slurp(dirfd, "master.m3u8");
    int kind;

    if (!text)
        return -1;
    kind = tc_reuse_kind_text(text);
    free(text);
    return kind;
}

int tc_reuse_fits(const struct tc_reuse *r, const char *preset, int crf,
                  double fps)
{
    char how[sizeof(r->how)];

    if (!strcmp(r->how, "remux"))
        return 1;
    if (!preset || snprintf(how, sizeof(how), "x264 %s crf %d", preset,
                            crf) >= (int)sizeof(how) ||
        strcmp(r->how, how) != 0)
        return 0;
    /* FRAME-RATE is written with three decimals */
    return r->fps > 0 && fps > 0 && r->fps > fps - 0.01 && r->fps < fps + 0.01;
}

/* Copy the open file in to the new file name below to_fd. 0 or -errno. */
static int copy_file(int in, int to_fd, const char *name)
{
    char buf[65536];
    ssize_t n;
    int out, ret = 0;

    if ((out = openat(to_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
        return -errno;
    while ((n = read(in, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && write(out, buf, (size_t)n) != n) {
            ret = errno ? -errno : -EIO;
            break;
        }
    if (n < 0 && ret == 0)
        ret = -errno;
    if (close(out) < 0 && ret == 0)
        ret = -errno;
    return ret;
}

/* Hard-link video/name below from_fd to rung/name below to_fd, or copy
 * it where a link is refused (another file system, or a job child, which
 * may not link: a link would let it write into the first rendition).
 * 0 or -errno. */
static int link_or_copy(int from_fd, int to_fd, const char *rung, const char *name)
{
    char a[64], b[600];
    int in, ret;

    snprintf(a, sizeof(a), "video/%s", name);
    if (snprintf(b, sizeof(b), "%s/%s", rung, name) >= (int)sizeof(b))
        return -ENAMETOOLONG;
    if (linkat(from_fd, a, to_fd, b, 0) == 0)
        return 0;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != EACCES)
        return -errno;
    if ((in = openat(from_fd, a, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -errno;
    ret = copy_file(in, to_fd, b);
    close(in);
    return ret;
}

/* Write text to rung/index.m3u8 below dirfd, its EVENT type made VOD. */
static int write_vod(int dirfd, const char *rung, const char *text)
{
    const char *p = strstr(text, "#EXT-X-PLAYLIST-TYPE:EVENT");
    char path[600];
    FILE *fp;
    int fd, ret = 0;

    if (snprintf(path, sizeof(path), "%s/index.m3u8", rung) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    if ((fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return -errno;
    if (!(fp = fdopen(fd, "w"))) {
        ret = -errno;
        close(fd);
        return ret;
    }
    if (p ? fprintf(fp, "%.*sVOD%s", (int)(p + 21 - text), text, p + 26) < 0
          : fputs(text, fp) == EOF)
        ret = -EIO;
    if (fclose(fp) != 0 && ret == 0)
        ret = -EIO;
    return ret;
}

int tc_reuse_link(int dirfd, int rung_dirfd, const char *rung)
{
    char name[32], *text, *p;
    int i, ret, n;

    if (!(text = slurp(dirfd, "video/index.m3u8")))
        return -EIO;
    ret = link_or_copy(dirfd, rung_dirfd, rung, "init.mp4");
    n = 0;
    for (p = text; ret == 0 && (p = strstr(p, "#EXTINF:")); p += 8)
        n++;
    for (i = 0; ret == 0 && i < n; i++) {
        snprintf(name, sizeof(name), "seg_%05d.m4s", i);
        ret = link_or_copy(dirfd, rung_dirfd, rung, name);
    }
    if (ret == 0)
        ret = write_vod(rung_dirfd, rung, text);
    free(text);
    return ret;
}

void tc_reuse_free(struct tc_reuse *r)
{
    free(r->keys);
    memset(r, 0, sizeof(*r));
}
