/*
 * publish.h - the output folder's life: a work folder next to the final
 * one, removal of a work folder after a failure, and the atomic rename
 * that publishes it; plus the two ways the pipeline writes into a work
 * folder it holds only as a descriptor (a job child has no path access).
 * Plain POSIX, no libav. Not for writing media.
 */
#ifndef HUBCAST_TC_PUBLISH_H
#define HUBCAST_TC_PUBLISH_H

#include <stddef.h>

/*
 * Create "<out_dir>.work-XXXXXX" (same parent as out_dir) and write its
 * path into work. Returns 0, or -errno with nothing created.
 */
int tc_work_create(const char *out_dir, char *work, size_t worksz);

/* Create the folder dir/name. Returns 0 or -errno. */
int tc_work_mkdir(const char *dir, const char *name);

/* Create the folder name below the folder dirfd. Returns 0 or -errno. */
int tc_work_mkdirat(int dirfd, const char *name);

/*
 * Open name below the folder dirfd for writing (created 0644, truncated).
 * name must be relative and must not climb out with "..". Returns the
 * descriptor (close-on-exec), or -errno.
 */
int tc_work_openat(int dirfd, const char *name);

/*
 * Write the n bytes at data to the new file name below dirfd. Returns 0 or
 * -errno (a partial file may remain; the work folder is removed then).
 */
int tc_work_write(int dirfd, const char *name, const void *data, size_t n);

/* Remove the folder path and everything below it. Returns 0 or -errno. */
int tc_work_remove(const char *path);

/*
 * Rename work to out_dir, refusing to replace an existing out_dir.
 * Returns 0 or -errno (work is left in place).
 */
int tc_work_publish(const char *work, const char *out_dir);

/*
 * Move every entry of work into the existing folder out_dir, `last`
 * (e.g. the master playlist) after all the others, then remove work.
 * Entries of out_dir not in work (a first rendition beside the ladder)
 * stay; one of the same name is replaced. Readers see each entry appear
 * whole. Returns 0 or -errno (what was moved stays moved; work keeps the
 * rest).
 */
int tc_work_merge(const char *work, const char *out_dir, const char *last);

#endif
