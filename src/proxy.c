/*
 * proxy.c - trusted proxies and X-Forwarded-For (see proxy.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy.h"
#include "util.h"

/* Text to (family, bytes); IPv4-mapped IPv6 becomes IPv4. 0 or -1. */
static int parse_addr(const char *s, int *family, unsigned char a[16])
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (inet_pton(AF_INET, s, a) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, a) != 1)
        return -1;
    *family = AF_INET6;
    if (!memcmp(a, mapped, sizeof(mapped))) {
        memmove(a, a + 12, 4);
        *family = AF_INET;
    }
    return 0;
}

static int in_net(const struct proxy_net *n, int family, const unsigned char *a)
{
    int full = n->bits / 8, rest = n->bits % 8;

    if (n->family != family || memcmp(n->addr, a, (size_t)full))
        return 0;
    return !rest || ((n->addr[full] ^ a[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static void trim(char *s)
{
    char *p = s, *e;

    while (isspace((unsigned char)*p))
        p++;
    memmove(s, p, strlen(p) + 1);
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
}

/* One "ADDR[/BITS]" into n. */
static int parse_net(char *item, struct proxy_net *n)
{
    char *slash = strchr(item, '/');
    long bits;
    int max;

    if (slash)
        *slash++ = '\0';
    if (parse_addr(item, &n->family, n->addr) < 0)
        return -1;
    max = n->family == AF_INET ? 32 : 128;
    if (!slash)
        bits = max;
    else if (hc_parse_long(slash, 0, max, &bits))
        return -1;
    n->bits = (int)bits;
    /* Keep only the network part, so that 10.1.2.3/8 means 10.0.0.0/8. */
    for (int i = 0; i < 16; i++) {
        int keep = n->bits - i * 8;

        n->addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
    return 0;
}

int proxy_list_parse(const char *spec, struct proxy_list *out, char *err, size_t errsz)
{
    char *copy = hc_strdup(spec ? spec : ""), *item = copy, *next;
    size_t cap = 1;

    out->n = 0;
    for (const char *p = copy; *p; p++)
        cap += *p == ',';
    out->nets = hc_calloc(cap, sizeof(*out->nets));
    for (; item; item = next) {
        if ((next = strchr(item, ',')))
            *next++ = '\0';
        trim(item);
        if (!*item)
            continue;
        snprintf(err, errsz, "--trusted-proxies: \"%s\" is not an address or CIDR block", item);
        if (parse_net(item, &out->nets[out->n]) < 0) {
            free(copy);
            proxy_list_free(out);
            return -1;
        }
        out->n++;
    }
    if (errsz)
        err[0] = '\0';
    free(copy);
    return 0;
}

void proxy_list_free(struct proxy_list *l)
{
    free(l->nets);
    l->nets = NULL;
    l->n = 0;
}

static int trusted_bytes(const struct proxy_list *l, int family, const unsigned char *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (in_net(&l->nets[i], family, a))
            return 1;
    return 0;
}

int proxy_trusted(const struct proxy_list *l, const char *ip)
{
    unsigned char a[16];
    int family;

    return ip && parse_addr(ip, &family, a) == 0 && trusted_bytes(l, family, a);
}

/* The canonical text of an address we parsed. */
static void write_addr(int family, const unsigned char *a, char *out, size_t outsz)
{
    char buf[INET6_ADDRSTRLEN];

    if (inet_ntop(family, a, buf, sizeof(buf)))
        hc_strlcpy(out, buf, outsz);
}

void proxy_client(const struct proxy_list *l, const char *peer, const char *xff, char *out,
                  size_t outsz)
{
    unsigned char a[16];
    int family;
    const char *end;

    hc_strlcpy(out, peer, outsz);
    if (parse_addr(peer, &family, a) < 0)
        return;
    write_addr(family, a, out, outsz);
    if (!xff || !trusted_bytes(l, family, a))
        return;
    end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        char item[INET6_ADDRSTRLEN + 8];
        size_t n;

        while (start > xff && start[-1] != ',')
            start--;
        n = (size_t)(end - start);
        end = start > xff ? start - 1 : xff;
        if (n >= sizeof(item))
            return;
        memcpy(item, start, n);
        item[n] = '\0';
        trim(item);
        if (!*item)
            continue;
        if (parse_addr(item, &family, a) < 0)
            return;
        write_addr(family, a, out, outsz);
        if (!trusted_bytes(l, family, a))
            return;
    }
}
