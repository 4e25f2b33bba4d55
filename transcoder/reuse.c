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

/* Read path into a NUL-terminated malloc'd string; NULL on failure. */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    char *text;
    size_t n;

    if (!fp)
        return NULL;
    if ((text = malloc(REUSE_MAX_TEXT))) {
        n = fread(text, 1, REUSE_MAX_TEXT - 1, fp);
        text[n] = '\0';
        if (!feof(fp)) {  /* larger than any playlist we write */
            free(text);
            text = NULL;
        }
    }
    fclose(fp);
    return text;
}

/* The master's RESOLUTION and video CODECS. 0 or -1. */
static int reuse_master(const char *text, struct tc_reuse *r)
{
    const char *p;
    size_t n;

    if (!strstr(text, TC_REUSE_TAG) ||
        !(p = strstr(text, "RESOLUTION=")) ||
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

int tc_reuse_load(const char *dir, struct tc_reuse *r)
{
    char path[4096];
    char *text;
    int ret = -1;

    memset(r, 0, sizeof(*r));
    snprintf(path, sizeof(path), "%s/master.m3u8", dir);
    if ((text = slurp(path))) {
        ret = reuse_master(text, r);
        free(text);
    }
    snprintf(path, sizeof(path), "%s/video/index.m3u8", dir);
    if (ret == 0 && (text = slurp(path))) {
        ret = reuse_keys(text, r);
        free(text);
    } else {
        ret = -1;
    }
    if (ret < 0)
        tc_reuse_free(r);
    return ret;
}

/* Hard-link from/name to to/name, or copy it. 0 or -errno. */
static int link_or_copy(const char *from, int to_fd, const char *to, const char *name)
{
    char a[4200], b[4200], buf[65536];
    int in, out, ret = 0;
    ssize_t n;

    snprintf(a, sizeof(a), "%s/%s", from, name);
    snprintf(b, sizeof(b), "%s/%s", to, name);
    if (linkat(AT_FDCWD, a, to_fd, b, 0) == 0)
        return 0;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK)
        return -errno;
    if ((in = open(a, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    if ((out = openat(to_fd, b, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
        ret = -errno;
        close(in);
        return ret;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n) {
            ret = -EIO;
            break;
        }
    if (n < 0)
        ret = -errno;
    close(in);
    if (close(out) < 0 && ret == 0)
        ret = -errno;
    return ret;
}

int tc_reuse_link(const char *dir, int rung_dirfd, const char *rung)
{
    char from[4096], path[4200], name[32], *text, *p;
    FILE *fp = NULL;
    int i, ret, n;

    snprintf(from, sizeof(from), "%s/video", dir);
    snprintf(path, sizeof(path), "%s/index.m3u8", from);
    if (!(text = slurp(path)))
        return -EIO;
    ret = link_or_copy(from, rung_dirfd, rung, "init.mp4");
    n = 0;
    for (p = text; ret == 0 && (p = strstr(p, "#EXTINF:")); p += 8)
        n++;
    for (i = 0; ret == 0 && i < n; i++) {
        snprintf(name, sizeof(name), "seg_%05d.m4s", i);
        ret = link_or_copy(from, rung_dirfd, rung, name);
    }
    /* the same playlist, now complete: VOD instead of EVENT */
    p = strstr(text, "#EXT-X-PLAYLIST-TYPE:EVENT");
    snprintf(path, sizeof(path), "%s/index.m3u8", rung);
    if (ret == 0) {
        int fd = openat(rung_dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || !(fp = fdopen(fd, "w"))) {
            ret = -errno;
            if (fd >= 0)
                close(fd);
        }
        else if (p ? fprintf(fp, "%.*sVOD%s", (int)(p + 21 - text), text,
                             p + 26) < 0 : fputs(text, fp) == EOF)
            ret = -EIO;
        if (fp && fclose(fp) != 0 && ret == 0)
            ret = -EIO;
    }
    free(text);
    return ret;
}

void tc_reuse_free(struct tc_reuse *r)
{
    free(r->keys);
    memset(r, 0, sizeof(*r));
}
