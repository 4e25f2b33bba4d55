/*
 * sniff.h - look at the first bytes of a file (an upload, or the stored
 * file the transcoder is about to open) and say whether it is a media
 * container we accept, or what else it is, in words. No libav: both
 * libhubcast and the transcoder link it.
 */
#ifndef HUBCAST_SNIFF_H
#define HUBCAST_SNIFF_H

#include <stddef.h>

#define SNIFF_BYTES 512     /* what the sniffer may look at */

enum sniff_result {
    SNIFF_MEDIA = 0,
    SNIFF_NEED_MORE,        /* not enough bytes to decide yet */
    SNIFF_REFUSED
};

/*
 * Decide from buf[0..len). final: no more bytes will come. With
 * len >= SNIFF_BYTES the answer is never SNIFF_NEED_MORE. On SNIFF_REFUSED
 * *why is a sentence for the person who uploaded the file, else NULL.
 */
enum sniff_result sniff_media(const unsigned char *buf, size_t len, int final, const char **why);

#endif
