/*
 * habit.c - the weekly habit made visible, computed from the catalog:
 * participation per ISO week (overall and per team) and each person's
 * streak of consecutive weeks with an update. Read-only; the routes are
 * for the web app.
 *
 * Weeks are labelled on the clock of whoever the numbers are about: the
 * reader's time zone for participation, the person's for a streak. An
 * update counts for the week its author posted it in (updates.iso_week).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "db_habit.h"
#include "habit.h"
#include "http.h"
#include "isoweek.h"
#include "util.h"

#define DAY 86400

/* Thursday 12:00 (local, zone tz) of the ISO week containing t: stepping
 * from it by whole weeks stays inside each week whatever daylight saving
 * does. *week_end (if given) receives the next Monday 00:00. */
static time_t week_anchor(time_t t, const char *tz, time_t *week_end)
{
    struct tm tm, e;
    int wd;

    if (hc_localtime_tz(t, tz, &tm) < 0)
        return t;
    wd = tm.tm_wday == 0 ? 7 : tm.tm_wday;
    tm.tm_mday += 4 - wd;
    tm.tm_hour = 12;
    tm.tm_min = tm.tm_sec = 0;
    e = tm;
    if (week_end) {
        e.tm_mday += 4;
        e.tm_hour = 0;
        *week_end = hc_mktime_tz(&e, tz);
    }
    return hc_mktime_tz(&tm, tz);
}

static json_t *rate_obj(json_t *o, int64_t posted, int64_t active)
{
    json_object_set_new(o, "posted", json_integer(posted));
    json_object_set_new(o, "active", json_integer(active));
    json_object_set_new(o, "rate", json_real(active ? (double)(int64_t)(posted * 1000 / active) / 1000 : 0));
    return o;
}

/* One team's participation as the API shows it. */
static json_t *team_json(const struct db_habit_team *t)
{
    return rate_obj(json_pack("{s:s}", "team", t->team), t->posted, t->active);
}

/* One week: totals and per team. Members count from the week they joined
 * (or earlier, if they posted that week); deactivated people do not count.
 * DB_OK with *out, or a negative db_rc. */
static int week_stats(struct catalog *c, const char *week, time_t week_end, json_t **out)
{
    struct db_habit_team *t;
    json_t *teams;
    int64_t posted = 0, active = 0;
    size_t n;
    int rc;

    *out = NULL;
    if ((rc = db_habit_week_teams(c, week, (int64_t)week_end, &t, &n)) < 0)
        return rc;
    teams = json_array();
    for (size_t i = 0; i < n; i++) {
        posted += t[i].posted;
        active += t[i].active;
        json_array_append_new(teams, team_json(&t[i]));
    }
    free(t);
    *out = rate_obj(json_pack("{s:s,s:o}", "week", week, "teams", teams), posted, active);
    return DB_OK;
}

/* GET /api/participation?weeks=N (1..52, default 8): oldest week first,
 * ending with the current week on the reader's clock; weeks that ended
 * before the company began (its first person joined) are left out. */
static int h_participation(struct req *r, struct resp *o)
{
    const char *arg = http_get_arg(r, "weeks");
    const char *tz = r->user.time_zone[0] ? r->user.time_zone : "UTC";
    long n = 8;
    time_t anchor = week_anchor(hc_now(), tz, NULL);
    json_t *weeks;
    int64_t start = 0;
    char cur[16];
    int src;

    if (arg && hc_parse_long(arg, 1, 52, &n) < 0)
        return http_error(o, 400, "bad_param", "weeks must be a whole number from 1 to 52");
    if ((src = db_habit_company_start(r->cat, &start)) < 0)
        return api_db_fail(o, src, "computing participation");
    weeks = json_array();
    for (long k = n - 1; k >= 0; k--) {
        time_t end;
        char label[16];
        json_t *w;
        int rc;

        week_anchor(anchor - k * 7 * DAY, tz, &end);
        if (src == DB_OK && (int64_t)end <= start)
            continue;   /* the company did not exist yet */
        if (hc_iso_week(anchor - k * 7 * DAY, tz, label, sizeof(label)) < 0) {
            json_decref(weeks);
            return http_error(o, 500, "internal", "could not compute participation");
        }
        if ((rc = week_stats(r->cat, label, end, &w)) < 0) {
            json_decref(weeks);
            return api_db_fail(o, rc, "computing participation");
        }
        json_array_append_new(weeks, w);
    }
    hc_iso_week(anchor, tz, cur, sizeof(cur));
    return http_json(o, 200, json_pack("{s:s,s:s,s:o}", "current_week", cur, "time_zone", tz, "weeks", weeks));
}

/* GET /api/people/{id}/stats: the streak (consecutive ISO weeks in which
 * the person posted, by the one rule of db_habit.h, ending this week or,
 * if they have not posted yet this week, last week) and the weeks they
 * posted in with those updates, newest first. */
static int h_person_stats(struct req *r, struct resp *o)
{
    struct db_habit_post *posts;
    int64_t id;
    json_t *weeks, *cur = NULL, *set;
    char tz[64], now_week[16];
    time_t anchor;
    int streak = 0, k, rc;
    size_t n;

    if (hc_parse_i64(r->match.params[0], 1, INT64_MAX, &id) < 0)
        return http_error(o, 404, "not_found", "there is no such person");
    if ((rc = db_habit_person_zone(r->cat, id, tz, sizeof(tz))) == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no such person");
    if (rc < 0 || (rc = db_habit_person_posts(r->cat, id, &posts, &n)) < 0)
        return api_db_fail(o, rc, "reading the updates");
    weeks = json_array();
    set = json_object();
    for (size_t i = 0; i < n; i++) {
        if (!cur || strcmp(posts[i].week, posts[i - 1].week)) {
            cur = json_pack("{s:s,s:[]}", "week", posts[i].week, "updates");
            json_array_append_new(weeks, cur);
            json_object_set_new(set, posts[i].week, json_true());
        }
        json_array_append_new(json_object_get(cur, "updates"), json_integer(posts[i].update_id));
    }
    free(posts);
    anchor = week_anchor(hc_now(), tz, NULL);
    hc_iso_week(anchor, tz, now_week, sizeof(now_week));
    for (k = json_object_get(set, now_week) ? 0 : 1;; k++) {
        char label[16];
        if (hc_iso_week(anchor - (time_t)k * 7 * DAY, tz, label, sizeof(label)) < 0 ||
            !json_object_get(set, label))
            break;
        streak++;
    }
    json_decref(set);
    return http_json(o, 200, json_pack("{s:I,s:i,s:s,s:s,s:o}", "user_id", (json_int_t)id, "streak", streak,
                                       "current_week", now_week, "time_zone", tz, "weeks", weeks));
}

const struct route habit_routes[] = {
    { "GET", "/api/participation",      h_participation, ROLE_MEMBER, 0, NULL },
    { "GET", "/api/people/{id}/stats",  h_person_stats,  ROLE_MEMBER, 0, NULL },
};
const size_t habit_nroutes = HC_ARRAY_LEN(habit_routes);
