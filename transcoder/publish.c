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
#include <unistd.h>

int tc_work_create(const char *out_dir, char *work, size_t worksz)
{
    int n = snprintf(work, worksz, "%s.work-XXXXXX", out_dir);

    if (n < 0 || (size_t)n >= worksz)
        return -ENAMETOOLONG;
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

int tc_work_mkdirat(int dirfd, const char *name)
{
    if (mkdirat(dirfd, name, 0755) < 0)
        return -errno;
    return 0;
}

/* A name that stays below its folder: relative, no ".." component. */
static int name_below(const char *name)
{
    const char *p = name;

    if (!*name || *name == '/')
        return 0;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 0;
        p += n + (p[n] == '/');
    }
    return 1;
}

int tc_work_openat(int dirfd, const char *name)
{
    int fd;

    if (!name_below(name))
        return -EPERM;
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
                O_NOFOLLOW, 0644);
    return fd < 0 ? -errno : fd;
}

int tc_work_write(int dirfd, const char *name, const void *data, size_t n)
{
    const char *p = data;
    int fd = tc_work_openat(dirfd, name), ret = 0;

    if (fd < 0)
        return fd;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ret = w < 0 ? -errno : -EIO;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) < 0 && ret == 0)
        ret = -errno;
    return ret;
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

/* Move work/name to out_dir/name, replacing one that is there. */
static int merge_one(const char *work, const char *out_dir, const char *name)
{
    char from[4096], to[4096];

    if (snprintf(from, sizeof(from), "%s/%s", work, name) >= (int)sizeof(from) ||
        snprintf(to, sizeof(to), "%s/%s", out_dir, name) >= (int)sizeof(to))
        return -ENAMETOOLONG;
    if (rename(from, to) == 0)
        return 0;
    if (errno != EEXIST && errno != ENOTEMPTY && errno != EISDIR && errno != ENOTDIR)
        return -errno;
    tc_work_remove(to);
    return rename(from, to) < 0 ? -errno : 0;
}

int tc_work_merge(const char *work, const char *out_dir, const char *last)
{
    DIR *d = opendir(work);
    struct dirent *e;
    int ret = 0, has_last = 0;

    if (!d)
        return -errno;
    while (ret == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (last && !strcmp(e->d_name, last)) {
            has_last = 1;
            continue;
        }
        ret = merge_one(work, out_dir, e->d_name);
    }
    closedir(d);
    if (ret == 0 && has_last)
        ret = merge_one(work, out_dir, last);
    if (ret == 0 && rmdir(work) < 0)
        ret = -errno;
    return ret;
}
