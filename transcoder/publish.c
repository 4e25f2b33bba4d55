/*
 * publish.c - work folder, cleanup and atomic publish; see publish.h.
 */
#include "publish.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
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
