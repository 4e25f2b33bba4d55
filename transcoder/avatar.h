/*
 * avatar.h - a profile picture from an uploaded JPEG or PNG: the first
 * picture, cropped to its centred square, scaled and coded again as a
 * small JPEG. Only the pixels are carried over (no EXIF, no comments, no
 * colour profile). Runs on descriptors, inside the job child. Not for
 * videos or posters.
 */
#ifndef HUBCAST_TC_AVATAR_H
#define HUBCAST_TC_AVATAR_H

#include <stddef.h>
#include <stdint.h>

#define TC_AVATAR_SIZE     256    /* the picture made: this many pixels a side */
#define TC_AVATAR_MAX_SIDE 8192   /* the largest picture read, each side */
#define TC_AVATAR_FILE     "avatar.jpg"

/*
 * Read the picture in in_fd (under the safe-input rules of input.h) and
 * write TC_AVATAR_FILE into the folder dir_fd. 0, or a negative AVERROR
 * with a sentence for a person in err (and no file left behind).
 */
int tc_avatar_fd(int in_fd, int dir_fd, int64_t deadline_us, char *err, size_t errsz);

#endif
