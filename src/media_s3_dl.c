/*
 * media_s3_dl.c - GET /api/updates/{id}/download.mp4 with an S3 media
 * store (media_s3.h): the rung and the audio fetched from the store into a
 * work folder, remuxed into one MP4 (transcoder/remux.c), uploaded, the
 * folder removed. Apart from media_s3.c so that what links the rest of the
 * library (unit tests, fuzz targets) needs no transcoder.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "layout.h"
#include "remux.h"
#include "media_s3.h"
#include "s3.h"
#include "store.h"
#include "util.h"

#define DL_OBJECT_MAX ((int64_t)1 << 34)   /* a segment or playlist fetched, at most */
#define DL_PLAYLIST_MAX (4 << 20)

/* Object prefix+name into dir/name (name: "rung/file"). 0 or -1. */
static int fetch_to(struct s3_client *c, const char *prefix, const char *dir, const char *name)
{
    char key[900], path[LAYOUT_PATH_MAX + 400];
    enum s3_rc rc;
    int fd;

    if (!media_s3_path_ok(name) || snprintf(key, sizeof(key), "%s%s", prefix, name) >= (int)sizeof(key) ||
        snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return -1;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        return -1;
    rc = s3_get_fd(c, key, fd, -1, -1, DL_OBJECT_MAX, NULL);
    if (close(fd) < 0 || rc != S3_OK) {
        hc_log("media: fetching %s for a download: %s", key, s3_rc_str(rc));
        return -1;
    }
    return 0;
}

/* A fetched playlist, whole and NUL-terminated (*out, free()). 0 or -1. */
static int read_playlist(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    ssize_t n;

    *out = NULL;
    if (fd < 0 || fstat(fd, &sb) < 0 || sb.st_size > DL_PLAYLIST_MAX) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *out = hc_malloc((size_t)sb.st_size + 1);
    n = pread(fd, *out, (size_t)sb.st_size, 0);
    close(fd);
    if (n < 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    (*out)[n] = '\0';
    return 0;
}

/* The playlist sub/index.m3u8 of the version at prefix, its init segment
 * and its segments, into dir/sub. 0 or -1. */
static int fetch_rung(struct s3_client *c, const char *prefix, const char *dir, const char *sub)
{
    char path[LAYOUT_PATH_MAX + 400], name[300], *text = NULL, *line, *next;
    int rc = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    if (mkdir(path, 0700) < 0 || snprintf(name, sizeof(name), "%s/index.m3u8", sub) >= (int)sizeof(name) ||
        fetch_to(c, prefix, dir, name) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (read_playlist(path, &text) < 0)
        return -1;
    for (line = text; rc == 0 && line && *line; line = next) {
        const char *file = line, *q;
        size_t n;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line[strcspn(line, "\r")] = '\0';
        if (!strncmp(line, "#EXT-X-MAP:URI=\"", 16) && (q = strchr(line + 16, '"'))) {
            file = line + 16;
            n = (size_t)(q - file);
        } else if (line[0] && line[0] != '#') {
            n = strlen(line);
        } else {
            continue;
        }
        if (n == 0 || memchr(file, '/', n) ||
            snprintf(name, sizeof(name), "%s/%.*s", sub, (int)n, file) >= (int)sizeof(name))
            rc = -1;
        else
            rc = fetch_to(c, prefix, dir, name);
    }
    free(text);
    return rc;
}

int media_s3_download(const struct conf *conf, int64_t id, const char *version, const char *rung,
                      char *key, size_t keysz)
{
    char prefix[300], pl[400], tmp[LAYOUT_PATH_MAX + 64], video[LAYOUT_PATH_MAX + 300];
    char audio[LAYOUT_PATH_MAX + 300], out[LAYOUT_PATH_MAX + 32], err[300] = "";
    struct s3_put_opts o = { "video/mp4", "private, no-cache" };
    struct s3_object have, src, a;
    struct s3_client *c;
    int has_audio, rc = -1, fd;

    snprintf(prefix, sizeof(prefix), "media/%lld/%s%s", (long long)id, version, *version ? "/" : "");
    if (snprintf(key, keysz, "%sdownload.mp4", prefix) >= (int)keysz ||
        snprintf(pl, sizeof(pl), "%s%s/index.m3u8", prefix, rung) >= (int)sizeof(pl) || !(c = store_client()))
        return -1;
    /* Made already, after the rung was last published: kept. */
    if (s3_head(c, pl, &src) != S3_OK)
        goto end;
    if (s3_head(c, key, &have) == S3_OK && have.last_modified >= src.last_modified) {
        rc = 0;
        goto end;
    }
    if (layout_media_dir(conf->data_dir, tmp, sizeof(tmp)) < 0 ||
        snprintf(tmp + strlen(tmp), sizeof(tmp) - strlen(tmp), "/%lld.work-dl-XXXXXX", (long long)id) < 0 ||
        !mkdtemp(tmp)) {
        hc_log("media: no folder to make a download in: %s", strerror(errno));
        goto end;
    }
    snprintf(pl, sizeof(pl), "%saudio/index.m3u8", prefix);
    has_audio = s3_head(c, pl, &a) == S3_OK;
    snprintf(video, sizeof(video), "%s/%s/index.m3u8", tmp, rung);
    snprintf(audio, sizeof(audio), "%s/audio/index.m3u8", tmp);
    snprintf(out, sizeof(out), "%s/out.mp4", tmp);
    if (fetch_rung(c, prefix, tmp, rung) < 0 || (has_audio && fetch_rung(c, prefix, tmp, "audio") < 0))
        goto clean;
    if (tc_remux_mp4(video, has_audio ? audio : NULL, out, err, sizeof(err)) < 0) {
        hc_log("media: no download of update %lld: %s", (long long)id, err);
        goto clean;
    }
    if ((fd = open(out, O_RDONLY | O_CLOEXEC)) >= 0) {
        struct stat sb;
        if (fstat(fd, &sb) == 0 && s3_put_fd(c, key, fd, 0, (int64_t)sb.st_size, &o) == S3_OK)
            rc = 0;
        close(fd);
    }
clean:
    hc_rmtree(tmp);
end:
    store_release(c);
    return rc;
}
