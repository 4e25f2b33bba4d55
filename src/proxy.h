/*
 * proxy.h - who the client is behind a reverse proxy or load balancer:
 * the peer address, or, when the peer is one of --trusted-proxies, the
 * rightmost address of X-Forwarded-For that is not a trusted proxy.
 *
 * Each proxy appends the address it received the request from, so the
 * entries to the right were written by our proxies and the first
 * untrusted one from the right is the furthest we can believe; anything
 * to its left was sent by the client and may be forged. Pure functions
 * over text addresses; src/http.c reads the headers.
 */
#ifndef HUBCAST_PROXY_H
#define HUBCAST_PROXY_H

#include <stddef.h>

struct proxy_net {
    int           family;     /* AF_INET or AF_INET6 */
    unsigned char addr[16];   /* network address (4 bytes used for IPv4) */
    int           bits;       /* prefix length */
};

struct proxy_list {
    struct proxy_net *nets;
    size_t            n;
};

/*
 * Parse "CIDR[,CIDR...]" ("10.0.0.0/8, 192.168.1.7, fd00::/8"; a bare
 * address is a /32 or /128). An empty spec gives an empty list. Returns
 * 0, or -1 with the reason in err and nothing to free.
 */
int proxy_list_parse(const char *spec, struct proxy_list *out, char *err, size_t errsz);
void proxy_list_free(struct proxy_list *l);

/* Is the address (text; IPv4-mapped IPv6 counts as IPv4) in the list? */
int proxy_trusted(const struct proxy_list *l, const char *ip);

/*
 * The client's address into out: peer when it is not trusted (or xff is
 * NULL), else walking xff (the X-Forwarded-For values joined by commas)
 * from the right, the first entry that is not trusted; if every entry is
 * trusted, the leftmost; an entry that is not an address stops the walk
 * at the last trusted hop. IPv4-mapped addresses are written as IPv4.
 */
void proxy_client(const struct proxy_list *l, const char *peer, const char *xff, char *out,
                  size_t outsz);

#endif
