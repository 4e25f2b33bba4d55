/*
 * gap.h - the rule for holes in a video's timestamps. The filter graph
 * makes the frame rate constant, so a hole between two pictures becomes as
 * many repeated frames as it lasts: a file of a few KB with one frame
 * stamped two hours in would cost two hours of frames. A hole of at most
 * TC_MAX_GAP_SECONDS is filled (a still picture, as players show it); a
 * longer one is refused with a sentence saying where it is. Pure
 * arithmetic, no libav. Not for deciding the frame rate.
 */
#ifndef HUBCAST_TC_GAP_H
#define HUBCAST_TC_GAP_H

#include <stddef.h>

#define TC_MAX_GAP_SECONDS 60.0

/*
 * Check the hole between the picture at prev seconds and the next one at
 * next seconds (both from the start of the file; prev < 0 when next is the
 * first picture, which is never refused). Returns 0 when it may be filled,
 * or -1 with a sentence for a person in err.
 */
int tc_gap_check(double prev, double next, double max_gap, char *err,
                 size_t errsz);

#endif
