/*
 * test_proxy.c - trusted proxies and X-Forwarded-For: CIDR lists, and the
 * client taken as the rightmost address that is not a trusted proxy.
 */
#include "config.h"

#include <string.h>

#include "proxy.h"
#include "unit.h"

static const char *client(const char *spec, const char *peer, const char *xff)
{
    static char out[64], err[128];
    struct proxy_list l;

    if (proxy_list_parse(spec, &l, err, sizeof(err)) < 0)
        return err;
    proxy_client(&l, peer, xff, out, sizeof(out));
    proxy_list_free(&l);
    return out;
}

UNIT_TEST(parses_lists)
{
    struct proxy_list l;
    char err[128] = "";

    CHECK_INT(proxy_list_parse(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,", &l, err, sizeof(err)), 0);
    CHECK_INT(l.n, 3);
    CHECK(proxy_trusted(&l, "10.200.3.4"));
    CHECK(proxy_trusted(&l, "192.168.1.7"));
    CHECK(!proxy_trusted(&l, "192.168.1.8"));
    CHECK(proxy_trusted(&l, "fd12::1"));
    CHECK(!proxy_trusted(&l, "fe80::1"));
    CHECK(proxy_trusted(&l, "::ffff:10.1.1.1"));   /* a dual-stack socket's IPv4 peer */
    CHECK(!proxy_trusted(&l, "11.0.0.1"));
    CHECK(!proxy_trusted(&l, "not an address"));
    proxy_list_free(&l);

    CHECK_INT(proxy_list_parse("10.1.2.3/12", &l, err, sizeof(err)), 0);   /* host bits dropped */
    CHECK(proxy_trusted(&l, "10.0.0.1"));
    CHECK(proxy_trusted(&l, "10.15.255.255"));
    CHECK(!proxy_trusted(&l, "10.16.0.0"));
    proxy_list_free(&l);

    CHECK_INT(proxy_list_parse("", &l, err, sizeof(err)), 0);
    CHECK_INT(l.n, 0);
    CHECK(!proxy_trusted(&l, "127.0.0.1"));
    proxy_list_free(&l);
}

UNIT_TEST(refuses_bad_lists)
{
    struct proxy_list l;
    char err[128] = "";

    CHECK_INT(proxy_list_parse("10.0.0.0/33", &l, err, sizeof(err)), -1);
    CHECK(strstr(err, "10.0.0.0/33") != NULL);
    CHECK_INT(proxy_list_parse("10.0.0.0/8,example.com", &l, err, sizeof(err)), -1);
    CHECK_INT(proxy_list_parse("fd00::/129", &l, err, sizeof(err)), -1);
    CHECK_INT(proxy_list_parse("10.0.0.0/-1", &l, err, sizeof(err)), -1);
}

UNIT_TEST(an_untrusted_peer_is_the_client)
{
    CHECK_STR(client("10.0.0.0/8", "203.0.113.5", "198.51.100.1"), "203.0.113.5");
    CHECK_STR(client("", "127.0.0.1", "198.51.100.1"), "127.0.0.1");
    CHECK_STR(client("10.0.0.0/8", "::ffff:203.0.113.5", NULL), "203.0.113.5");
}

UNIT_TEST(behind_trusted_proxies_the_rightmost_untrusted_address)
{
    /* nginx appended the client; the client forged the left entry. */
    CHECK_STR(client("127.0.0.1", "127.0.0.1", "198.51.100.9, 203.0.113.5"), "203.0.113.5");
    /* Two of our proxies in a row. */
    CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "203.0.113.5, 10.0.0.1"), "203.0.113.5");
    /* Several header lines, joined by commas. */
    CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "1.2.3.4,203.0.113.5 ,10.0.0.7,"), "203.0.113.5");
    CHECK_STR(client("127.0.0.1,::1", "::1", "2001:db8::7"), "2001:db8::7");
    /* No header: the proxy itself. */
    CHECK_STR(client("127.0.0.1", "127.0.0.1", NULL), "127.0.0.1");
    CHECK_STR(client("127.0.0.1", "127.0.0.1", ""), "127.0.0.1");
    /* Everything trusted: the leftmost. */
    CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "10.0.0.9, 10.0.0.1"), "10.0.0.9");
    /* Garbage stops the walk at the last trusted hop. */
    CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "203.0.113.5, bogus, 10.0.0.1"), "10.0.0.1");
    CHECK_STR(client("10.0.0.0/8", "10.0.0.2", "unknown"), "10.0.0.2");
}

int main(void)
{
    unit_run(parses_lists, "parses_lists");
    unit_run(refuses_bad_lists, "refuses_bad_lists");
    unit_run(an_untrusted_peer_is_the_client, "an_untrusted_peer_is_the_client");
    unit_run(behind_trusted_proxies_the_rightmost_untrusted_address,
             "behind_trusted_proxies_the_rightmost_untrusted_address");
    return unit_done();
}
