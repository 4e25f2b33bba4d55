/*
 * publish.c - work folder, cleanup and atomic publish; see publish.h.
 */
#include "publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A work folder nothing was written into for this long belongs to a
 * transcode that was killed: a live one adds a segment every few seconds. */
#define TC_WORK_STALE 30

/* The newest mtime of the folder path and of its direct entries (a new
 * segment changes its rung folder's mtime), or 0 if path is not a folder. */
static time_t newest_mtime(const char *path)
{
    char sub[4096];
    struct stat sb;
    struct dirent *e;
    time_t t;
    DIR *d;

    if (lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode) || !(d = opendir(path)))
        return 0;
    t = sb.st_mtime;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' ||
            (size_t)snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= sizeof(sub))
            continue;
        if (lstat(sub, &sb) == 0 && sb.st_mtime > t)
            t = sb.st_mtime;
    }
    closedir(d);
    return t;
}

/* Remove the "<out_dir>.work-XXXXXX" folders an earlier, killed transcode
 * left behind. Housekeeping only: failures are ignored. */
static void work_sweep(const char *out_dir)
{
    const char *slash = strrchr(out_dir, '/');
    char parent[4096], prefix[1024], path[4096];
    time_t now = time(NULL), t;
    struct dirent *e;
    size_t plen;
    DIR *d;

    if (slash)
        snprintf(parent, sizeof(parent), "%.*s", (int)(slash - out_dir + 1), out_dir);
    else
        snprintf(parent, sizeof(parent), ".");
    if ((size_t)snprintf(prefix, sizeof(prefix), "%s.work-", slash ? slash + 1 : out_dir) >=
        sizeof(prefix) || !(d = opendir(parent)))
        return;
    plen = strlen(prefix);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, plen) != 0 || strlen(e->d_name) != plen + 6 ||
            (size_t)snprintf(path, sizeof(path), "%s/%s", parent, e->d_name) >= sizeof(path))
            continue;
        t = newest_mtime(path);
        if (t > 0 && t + TC_WORK_STALE < now)
            tc_work_remove(path);
    }
    closedir(d);
}

int tc_work_create(const char *out_dir, char *work, size_t worksz)
{
    int n = snprintf(work, worksz, "%s.work-XXXXXX", out_dir);

    if (n < 0 || (size_t)n >= worksz)
        return -ENAMETOOLONG;
    work_sweep(out_dir);
    if (!mkdtemp(work))
        return -errno;
    return 0;
}

int tc_work_mkdir(const char *dir, const char *name)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    if (mkdir(path, 0755) < 0)
        return -errno;
    return 0;
}

/* nftw callback: remove one entry (children come first with FTW_DEPTH). */
static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

int tc_work_remove(const char *path)
{
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
        return -errno;
    return 0;
}

int tc_work_publish(const char *work, const char *out_dir)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, work, AT_FDCWD, out_dir, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL)
        return -errno;
#endif
    if (access(out_dir, F_OK) == 0)
        return -EEXIST;
    if (rename(work, out_dir) < 0)
        return -errno;
    return 0;
}
