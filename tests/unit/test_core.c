/*
 * test_core.c - unit tests for the pure parts of the server: routing, ISO
 * weeks in time zones, number and size parsing, configuration.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "isoweek.h"
#include "router.h"
#include "util.h"
#include "unit.h"

static int h_dummy(struct req *r, struct resp *o) { (void)r; (void)o; return 200; }

static const struct route table[] = {
    { "GET",    "/api/people",        h_dummy, ROLE_MEMBER, 0, NULL },
    { "PATCH",  "/api/people/{id}",   h_dummy, ROLE_ADMIN,  0, NULL },
    { "POST",   "/api/people/invite", h_dummy, ROLE_ADMIN,  0, NULL },
    { "GET",    "/media/{id}/{file}", h_dummy, ROLE_MEMBER, RF_PREFIX, NULL },
};

UNIT_TEST(router_matches_fixed_path)
{
    struct route_match m;
    CHECK_INT(router_match(table, 4, "GET", "/api/people", &m), 0);
    CHECK(m.route == &table[0]);
    CHECK_INT(m.nparams, 0);
}

UNIT_TEST(router_captures_id)
{
    struct route_match m;
    CHECK_INT(router_match(table, 4, "PATCH", "/api/people/42", &m), 0);
    CHECK(m.route == &table[1]);
    CHECK_STR(m.params[0], "42");
}

UNIT_TEST(router_prefers_first_matching_route_for_literal)
{
    struct route_match m;
    CHECK_INT(router_match(table, 4, "POST", "/api/people/invite", &m), 0);
    CHECK(m.route == &table[2]);
}

UNIT_TEST(router_wrong_method_is_405)
{
    struct route_match m;
    CHECK_INT(router_match(table, 4, "DELETE", "/api/people/42", &m), -1);
    CHECK_INT(m.method_mismatch, 1);
}

UNIT_TEST(router_unknown_path_is_404)
{
    struct route_match m;
    CHECK_INT(router_match(table, 4, "GET", "/api/peoplex", &m), -1);
    CHECK_INT(m.method_mismatch, 0);
    CHECK_INT(router_match(table, 4, "PATCH", "/api/people/", &m), -1);
    CHECK_INT(router_match(table, 4, "PATCH", "/api/people/1/2", &m), -1);
}

UNIT_TEST(router_prefix_capture_takes_rest)
{
    struct route_match m;
    CHECK_INT(router_match(table, 4, "GET", "/media/7/720p/seg_00001.m4s", &m), 0);
    CHECK_STR(m.params[0], "7");
    CHECK_STR(m.params[1], "720p/seg_00001.m4s");
}

UNIT_TEST(router_head_uses_get_route)
{
    struct route_match m;
    CHECK_INT(router_match(table, 4, "HEAD", "/api/people", &m), 0);
    CHECK(m.route == &table[0]);
}

UNIT_TEST(iso_week_of_known_dates)
{
    char w[16];
    /* 2026-11-27 12:00 UTC is a Friday in week 48. */
    CHECK_INT(hc_iso_week(1795780800, "UTC", w, sizeof(w)), 0);
    CHECK_STR(w, "2026-W48");
    /* 2021-01-01 belongs to 2020-W53. */
    CHECK_INT(hc_iso_week(1609502400, "UTC", w, sizeof(w)), 0);
    CHECK_STR(w, "2020-W53");
}

UNIT_TEST(iso_week_depends_on_time_zone)
{
    char w[16];
    /* Monday 2026-11-30 02:30 UTC is Monday (W49) in UTC and Tokyo, but
     * still Sunday evening (W48) in New York. */
    time_t t = 1796005800;
    CHECK_INT(hc_iso_week(t, "UTC", w, sizeof(w)), 0);
    CHECK_STR(w, "2026-W49");
    CHECK_INT(hc_iso_week(t, "Asia/Tokyo", w, sizeof(w)), 0);
    CHECK_STR(w, "2026-W49");
    CHECK_INT(hc_iso_week(t, "America/New_York", w, sizeof(w)), 0);
    CHECK_STR(w, "2026-W48");
}

UNIT_TEST(iso_week_parse_validates)
{
    int y, wk;
    CHECK_INT(hc_iso_week_parse("2026-W48", &y, &wk), 0);
    CHECK_INT(y, 2026);
    CHECK_INT(wk, 48);
    CHECK_INT(hc_iso_week_parse("2020-W53", &y, &wk), 0);
    CHECK_INT(hc_iso_week_parse("2026-W53", &y, &wk), 0);    /* 2026 starts on a Thursday */
    CHECK_INT(hc_iso_week_parse("2025-W53", &y, &wk), -1);   /* 2025 has 52 weeks */
    CHECK_INT(hc_iso_week_parse("2026-W00", &y, &wk), -1);
    CHECK_INT(hc_iso_week_parse("2026-48", &y, &wk), -1);
    CHECK_INT(hc_iso_week_parse("2026-W480", &y, &wk), -1);
    CHECK_INT(hc_iso_week_parse("", &y, &wk), -1);
}

UNIT_TEST(iso_week_end_is_the_next_local_monday)
{
    /* 2026-W48 ends Monday 30 Nov 00:00: UTC, Paris (UTC+1), Tokyo (UTC+9). */
    CHECK_INT(hc_iso_week_end("2026-W48", "UTC"), 1795996800);
    CHECK_INT(hc_iso_week_end("2026-W48", "Europe/Paris"), 1795996800 - 3600);
    CHECK_INT(hc_iso_week_end("2026-W48", "Asia/Tokyo"), 1795996800 - 9 * 3600);
    /* 2020-W53 ends on Monday 4 January 2021. */
    CHECK_INT(hc_iso_week_end("2020-W53", "UTC"), 1609718400);
    CHECK_INT(hc_iso_week_end("2026-W54", "UTC"), -1);
}

UNIT_TEST(time_zone_names_are_checked)
{
    CHECK(hc_tz_valid("Europe/Paris"));
    CHECK(hc_tz_valid("UTC"));
    CHECK(!hc_tz_valid("Mars/Olympus"));
    CHECK(!hc_tz_valid("../../etc/passwd"));
    CHECK(!hc_tz_valid("/etc/localtime"));
    CHECK(!hc_tz_valid(""));
}

UNIT_TEST(parse_size_units)
{
    int64_t v;
    CHECK_INT(hc_parse_size("4G", &v), 0);
    CHECK_INT(v, 4LL << 30);
    CHECK_INT(hc_parse_size("64k", &v), 0);
    CHECK_INT(v, 65536);
    CHECK_INT(hc_parse_size("512MB", &v), 0);
    CHECK_INT(v, 512LL << 20);
    CHECK_INT(hc_parse_size("12", &v), 0);
    CHECK_INT(v, 12);
    CHECK_INT(hc_parse_size("-1", &v), -1);
    CHECK_INT(hc_parse_size("1X", &v), -1);
    CHECK_INT(hc_parse_size("", &v), -1);
}

UNIT_TEST(parse_long_is_strict)
{
    long v;
    CHECK_INT(hc_parse_long("42", 0, 100, &v), 0);
    CHECK_INT(v, 42);
    CHECK_INT(hc_parse_long("42x", 0, 100, &v), -1);
    CHECK_INT(hc_parse_long("101", 0, 100, &v), -1);
    CHECK_INT(hc_parse_long(" ", 0, 100, &v), -1);
}

UNIT_TEST(listen_address_split)
{
    char a[64];
    int p;
    CHECK_INT(conf_listen_split("127.0.0.1:8080", a, sizeof(a), &p), 0);
    CHECK_STR(a, "127.0.0.1");
    CHECK_INT(p, 8080);
    CHECK_INT(conf_listen_split("[::1]:9000", a, sizeof(a), &p), 0);
    CHECK_STR(a, "::1");
    CHECK_INT(p, 9000);
    CHECK_INT(conf_listen_split("localhost", a, sizeof(a), &p), -1);
    CHECK_INT(conf_listen_split("1.2.3.4:99999", a, sizeof(a), &p), -1);
}

UNIT_TEST(conf_precedence_flag_over_env)
{
    struct conf c;
    char *argv[] = { "serve", "--listen", "127.0.0.1:9", "--workers=3", NULL };
    int n;
    setenv("HUBCAST_LISTEN", "127.0.0.1:7", 1);
    setenv("HUBCAST_CRF", "30", 1);
    conf_defaults(&c);
    CHECK_INT(conf_load(&c, OPT_SERVE | OPT_MEDIA, 4, argv, &n), 0);
    CHECK_STR(c.listen, "127.0.0.1:9");
    CHECK_INT(c.crf, 30);
    CHECK_INT(c.workers, 3);
    CHECK_INT(n, 0);
    unsetenv("HUBCAST_LISTEN");
    unsetenv("HUBCAST_CRF");
}

UNIT_TEST(conf_rejects_unknown_and_bad_values)
{
    struct conf c;
    char *a1[] = { "serve", "--nope", NULL };
    char *a2[] = { "serve", "--workers", "many", NULL };
    int n;
    conf_defaults(&c);
    CHECK_INT(conf_load(&c, OPT_SERVE, 2, a1, &n), -1);
    CHECK_INT(conf_load(&c, OPT_SERVE, 3, a2, &n), -1);
}

UNIT_TEST(iso_instants_parse_with_offsets)
{
    time_t t;
    CHECK_INT(hc_parse_instant("2026-10-22T08:00:00Z", &t), 0);
    CHECK_INT(t, 1792656000);
    CHECK_INT(hc_parse_instant("2026-10-22T10:00:00+02:00", &t), 0);
    CHECK_INT(t, 1792656000);
    CHECK_INT(hc_parse_instant("2026-10-22T08:00Z", &t), 0);
    CHECK_INT(t, 1792656000);
    CHECK_INT(hc_parse_instant("2026-10-22T08:00:00.250Z", &t), 0);
    CHECK_INT(t, 1792656000);
    CHECK_INT(hc_parse_instant("2026-13-22T08:00:00Z", &t), -1);
    CHECK_INT(hc_parse_instant("tomorrow", &t), -1);
    CHECK_INT(hc_parse_instant("2026-10-22T08:00:00Zjunk", &t), -1);
    /* Found by fuzz_time: each of these used to parse. */
    CHECK_INT(hc_parse_instant("1013-10-22T08:00Z", &t), -1);       /* no ISO week for it */
    CHECK_INT(hc_parse_instant("2026-10-22T-1:00Z", &t), -1);       /* negative hour */
    CHECK_INT(hc_parse_instant("2026-10-22T08:-5Z", &t), -1);
    CHECK_INT(hc_parse_instant(" 2026-10-22T08:00Z", &t), -1);      /* blanks, signs */
    CHECK_INT(hc_parse_instant("+2026-10-22T08:00Z", &t), -1);
    CHECK_INT(hc_parse_instant("2026-02-31T08:00Z", &t), -1);       /* no such day */
    CHECK_INT(hc_parse_instant("2026-10-22T08:00+99:99", &t), -1);  /* no such offset */
    CHECK_INT(hc_parse_instant("2024-02-29T08:00Z", &t), 0);
}

UNIT_TEST(crlf_detection)
{
    CHECK(hc_has_crlf("a\r\nBcc: x"));
    CHECK(hc_has_crlf("a\nb"));
    CHECK(!hc_has_crlf("Zoë Dupont"));
}

int main(void)
{
    unit_run(router_matches_fixed_path, "router_matches_fixed_path");
    unit_run(router_captures_id, "router_captures_id");
    unit_run(router_prefers_first_matching_route_for_literal, "router_prefers_first_matching_route_for_literal");
    unit_run(router_wrong_method_is_405, "router_wrong_method_is_405");
    unit_run(router_unknown_path_is_404, "router_unknown_path_is_404");
    unit_run(router_prefix_capture_takes_rest, "router_prefix_capture_takes_rest");
    unit_run(router_head_uses_get_route, "router_head_uses_get_route");
    unit_run(iso_week_of_known_dates, "iso_week_of_known_dates");
    unit_run(iso_week_depends_on_time_zone, "iso_week_depends_on_time_zone");
    unit_run(iso_week_parse_validates, "iso_week_parse_validates");
    unit_run(iso_week_end_is_the_next_local_monday, "iso_week_end_is_the_next_local_monday");
    unit_run(time_zone_names_are_checked, "time_zone_names_are_checked");
    unit_run(parse_size_units, "parse_size_units");
    unit_run(parse_long_is_strict, "parse_long_is_strict");
    unit_run(listen_address_split, "listen_address_split");
    unit_run(conf_precedence_flag_over_env, "conf_precedence_flag_over_env");
    unit_run(conf_rejects_unknown_and_bad_values, "conf_rejects_unknown_and_bad_values");
    unit_run(iso_instants_parse_with_offsets, "iso_instants_parse_with_offsets");
    unit_run(crlf_detection, "crlf_detection");
    return unit_done();
}
