/*
 * fuzz_sniff.c - libFuzzer target for the content sniffer (src/sniff.c):
 * any bytes, any length, final or not. Checks its promises: a refusal
 * always has a sentence, an acceptance never has one, and it never asks
 * for more than SNIFF_BYTES.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sniff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why;
    unsigned char *copy;
    int final = size > 0 && (data[0] & 1);
    enum sniff_result r;

    /* An exact-size copy, so that ASan sees any read past the end. */
    if (!(copy = malloc(size ? size : 1)))
        return 0;
    memcpy(copy, data, size);
    for (size_t len = 0; len <= size; len = len < 16 ? len + 1 : len * 2 + 1) {
        r = sniff_media(copy, len, final, &why);
        if ((r == SNIFF_REFUSED) != (why != NULL))
            abort();
        if (r == SNIFF_NEED_MORE && len >= SNIFF_BYTES)
            abort();
        if (r == SNIFF_NEED_MORE && final)
            abort();
    }
    r = sniff_media(copy, size, 1, &why);
    if (r == SNIFF_NEED_MORE || (r == SNIFF_REFUSED) != (why != NULL))
        abort();
    free(copy);
    return 0;
}
