/*
 * layout.c - paths inside the data folder (see layout.h). The only file
 * with these path formats.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "layout.h"
#include "util.h"

static int fmt(char *out, size_t outsz, const char *f, ...) __attribute__((format(printf, 3, 4)));

static int fmt(char *out, size_t outsz, const char *f, ...)
{
    va_list ap;
    int n;

    va_start(ap, f);
    n = vsnprintf(out, outsz, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outsz) {
        if (outsz)
            out[0] = '\0';
        return -1;
    }
    return 0;
}

int layout_uploads_dir(const char *data_dir, char *out, size_t outsz)
{
    return fmt(out, outsz, "%s/uploads", data_dir);
}

int layout_upload_part(const char *data_dir, const char *upload_id, char *out, size_t outsz)
{
    return fmt(out, outsz, "%s/uploads/%s.part", data_dir, upload_id);
}

int layout_media_dir(const char *data_dir, char *out, size_t outsz)
{
    return fmt(out, outsz, "%s/media", data_dir);
}

int layout_update_media(const char *data_dir, int64_t update_id, char *out, size_t outsz)
{
    return fmt(out, outsz, "%s/media/%lld", data_dir, (long long)update_id);
}

int layout_version_media(const char *data_dir, int64_t update_id, int version, char *out, size_t outsz)
{
    if (version <= 0)
        return layout_update_media(data_dir, update_id, out, outsz);
    return fmt(out, outsz, "%s/media/%lld/v%d", data_dir, (long long)update_id, version);
}

int layout_version_name(int version, char *out, size_t outsz)
{
    if (version <= 0)
        return fmt(out, outsz, "%s", "");
    return fmt(out, outsz, "v%d", version);
}

int layout_media_rel(int64_t update_id, const char *file, char *out, size_t outsz)
{
    return fmt(out, outsz, "%lld/%s", (long long)update_id, file);
}

int layout_work_prefix(int64_t update_id, char *out, size_t outsz)
{
    return fmt(out, outsz, "%lld.work-", (long long)update_id);
}

int layout_avatars_dir(const char *data_dir, char *out, size_t outsz)
{
    return fmt(out, outsz, "%s/avatars", data_dir);
}

int layout_avatar_name(int64_t user_id, const char *random, char *out, size_t outsz)
{
    return fmt(out, outsz, "%lld-%s.jpg", (long long)user_id, random);
}

int layout_avatar_work(const char *data_dir, char *out, size_t outsz)
{
    return fmt(out, outsz, "%s/avatars/.work-XXXXXX", data_dir);
}

int layout_prepare(const char *data_dir)
{
    char p[LAYOUT_PATH_MAX];

    if (hc_mkdirs(data_dir, 0700) < 0)
        return -1;
    if (layout_uploads_dir(data_dir, p, sizeof(p)) < 0 || hc_mkdirs(p, 0700) < 0)
        return -1;
    if (layout_media_dir(data_dir, p, sizeof(p)) < 0 || hc_mkdirs(p, 0755) < 0)
        return -1;
    if (layout_avatars_dir(data_dir, p, sizeof(p)) < 0 || hc_mkdirs(p, 0700) < 0)
        return -1;
    return 0;
}
