/*
 * habit.c - the weekly habit made visible, computed from the catalog:
 * participation per ISO week (overall and per team) and each person's
 * streak of consecutive weeks with an update, and recognition: the
 * @mentions found in what people write (the rule is in habit.h) and the
 * kudos each person received. The routes are for the web app.
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
#include "db_social.h"
#include "db_updates.h"
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

/* ---- recognition ---- */

/* U+00C0..U+00FF and U+0100..U+017F without accents, lower case: '*' is a
 * letter written with two ('ae', 'th', 'ss', 'ij', 'oe'), '-' not a letter. */
static const char latin1[] = "aaaaaa*ceeeeiiiidnooooo-ouuuuy**aaaaaa*ceeeeiiiidnooooo-ouuuuy*y";
static const char latin_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkkllllllllll"
                              "nnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
_Static_assert(sizeof(latin1) == 65 && sizeof(latin_a) == 129, "one letter per code point");

/* The code point at *p (advancing *p), or -1 for a stray byte. */
static long utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    long cp;
    int n;

    if (s[0] < 0x80) {
        (*p)++;
        return s[0];
    }
    n = s[0] >= 0xf0 ? 3 : s[0] >= 0xe0 ? 2 : s[0] >= 0xc0 ? 1 : 0;
    cp = s[0] & (0x3f >> n);
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            (*p)++;
            return -1;
        }
        cp = cp << 6 | (s[i] & 0x3f);
    }
    *p += n ? n + 1 : 1;
    return n ? cp : -1;
}

/* Punctuation and spaces outside ASCII: they end a mention. */
static int is_wide_punct(long cp)
{
    return (cp >= 0xa0 && cp <= 0xbf) || cp == 0xd7 || cp == 0xf7 || (cp >= 0x2000 && cp <= 0x206f) ||
           (cp >= 0x3000 && cp <= 0x303f) || cp == 0xfeff;
}

/* s[0..len) folded (see habit.h) into out. */
static void fold(const char *s, size_t len, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t o = 0;

    while (p < end && o + 5 < outsz) {
        const unsigned char *start = p;
        long cp = utf8_next(&p);
        const char *two = NULL;
        char one = 0;

        if (cp < 0 || is_wide_punct(cp))
            continue;
        if (cp < 0x80) {
            if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z'))
                one = (char)cp;
            else if (cp >= 'A' && cp <= 'Z')
                one = (char)(cp - 'A' + 'a');
        } else if (cp >= 0xc0 && cp <= 0x17f) {
            one = cp < 0x100 ? latin1[cp - 0xc0] : latin_a[cp - 0x100];
            if (one == '*') {
                two = cp == 0xc6 || cp == 0xe6 ? "ae" : cp == 0xde || cp == 0xfe ? "th" : cp == 0xdf ? "ss"
                    : cp == 0x132 || cp == 0x133 ? "ij" : "oe";
                one = 0;
            } else if (one == '-') {
                one = 0;
            }
        } else {
            /* Another script: kept as written. */
            memcpy(out + o, start, (size_t)(p - start));
            o += (size_t)(p - start);
            continue;
        }
        if (two) {
            out[o++] = two[0];
            out[o++] = two[1];
        } else if (one) {
            out[o++] = one;
        }
    }
    out[o] = '\0';
}

/* A person's names, folded: first name, whole name, and the handle. */
struct handle {
    int64_t id;
    char    name[256];
    char    first[128];
    char    full[256];
    int     first_unique;       /* nobody else active has this first name */
};

/* The handles of every active person. DB_OK with *out (free()) or a
 * negative db_rc. */
static int load_handles(struct catalog *c, struct handle **out, size_t *n)
{
    struct db_mention_person *pp;
    int rc = db_mention_people(c, &pp, n);

    *out = NULL;
    if (rc < 0)
        return rc;
    *out = hc_calloc(*n ? *n : 1, sizeof(**out));
    for (size_t i = 0; i < *n; i++) {
        struct handle *h = &(*out)[i];
        const char *sp = strchr(pp[i].name, ' ');
        h->id = pp[i].id;
        hc_strlcpy(h->name, pp[i].name, sizeof(h->name));
        fold(pp[i].name, sp ? (size_t)(sp - pp[i].name) : strlen(pp[i].name), h->first, sizeof(h->first));
        fold(pp[i].name, strlen(pp[i].name), h->full, sizeof(h->full));
    }
    for (size_t i = 0; i < *n; i++) {
        (*out)[i].first_unique = (*out)[i].first[0] != '\0';
        for (size_t j = 0; j < *n; j++)
            if (j != i && !strcmp((*out)[i].first, (*out)[j].first))
                (*out)[i].first_unique = 0;
    }
    free(pp);
    return DB_OK;
}

static const char *handle_of(const struct handle *h)
{
    return h->first_unique ? h->first : h->full;
}

/* Is byte c part of a mention's handle (ASCII letters, digits, _ - .,
 * or any byte of a non-ASCII character)? */
static int handle_byte(unsigned char c)
{
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_' || c == '-' || c == '.';
}

/* The words around text[at], on one line, into out (512 bytes). */
static void excerpt(const char *text, size_t at, char *out, size_t outsz)
{
    size_t len = strlen(text), a = at > 80 ? at - 80 : 0, b = at + 200 < len ? at + 200 : len, o = 0;

    while (a > 0 && a < at && ((unsigned char)text[a] & 0xc0) == 0x80)
        a++;
    while (b < len && b > at && ((unsigned char)text[b] & 0xc0) == 0x80)
        b--;
    if (a > 0)
        o += (size_t)snprintf(out, outsz, "\xe2\x80\xa6");
    for (size_t i = a; i < b && o + 4 < outsz; i++)
        out[o++] = (unsigned char)text[i] < 0x20 ? ' ' : text[i];
    if (b < len && o + 4 < outsz)
        o += (size_t)snprintf(out + o, outsz - o, "\xe2\x80\xa6");
    out[o] = '\0';
}

/* Record every mention in text (see habit.h) as m (user_id and excerpt
 * filled per mention). 0 or a negative db_rc. */
static int scan_text(struct catalog *c, const struct handle *hs, size_t nh, const char *text,
                     struct db_mention_new *m)
{
    char ex[512];

    for (const char *p = text ? strchr(text, '@') : NULL; p; p = strchr(p + 1, '@')) {
        const char *q = p + 1;
        char tok[256];
        int rc, created;

        if (p > text && handle_byte((unsigned char)p[-1]) && p[-1] != '-' && p[-1] != '.')
            continue;   /* inside a word: an address, not a mention */
        while (*q && handle_byte((unsigned char)*q)) {
            const unsigned char *u = (const unsigned char *)q;
            long cp = utf8_next(&u);
            if (is_wide_punct(cp))
                break;
            q = (const char *)u;
        }
        fold(p + 1, (size_t)(q - p - 1), tok, sizeof(tok));
        if (!tok[0])
            continue;
        for (size_t i = 0; i < nh; i++) {
            if (hs[i].id == m->by_user || (strcmp(tok, hs[i].full) && !(hs[i].first_unique && !strcmp(tok, hs[i].first))))
                continue;
            excerpt(text, (size_t)(p - text), ex, sizeof(ex));
            m->user_id = hs[i].id;
            m->excerpt = ex;
            if ((rc = db_mention_add(c, m, &created)) < 0)
                return rc;
        }
    }
    return 0;
}

int habit_mentions_comment(struct catalog *c, int64_t update_id, int64_t comment_id, int64_t by_user,
                           const char *text)
{
    struct db_mention_new m = { .by_user = by_user, .update_id = update_id, .comment_id = comment_id,
                                .now = (int64_t)hc_now() };
    struct handle *hs;
    char source[48];
    size_t nh;
    int rc;

    if (!text || !strchr(text, '@'))
        return 0;
    if ((rc = load_handles(c, &hs, &nh)) < 0)
        return rc;
    snprintf(source, sizeof(source), "comment:%lld", (long long)comment_id);
    m.source = source;
    rc = scan_text(c, hs, nh, text, &m);
    free(hs);
    return rc;
}

int habit_mentions_update(struct catalog *c, int64_t update_id)
{
    struct db_viewer all = { .admin = 1 };
    struct db_mention_new m = { .update_id = update_id, .now = (int64_t)hc_now() };
    struct db_update u;
    struct db_answer *ans = NULL;
    struct handle *hs = NULL;
    char source[48];
    size_t na = 0, nh;
    int rc;

    if ((rc = db_update_get(c, &all, update_id, &u)) != DB_OK)
        return rc == DB_NOTFOUND ? 0 : rc;
    if ((rc = db_update_answers(c, update_id, &ans, &na)) < 0 || (rc = load_handles(c, &hs, &nh)) < 0)
        goto end;
    snprintf(source, sizeof(source), "update:%lld", (long long)update_id);
    m.source = source;
    m.by_user = u.author_id;
    rc = scan_text(c, hs, nh, u.description, &m);
    for (size_t i = 0; i < na && rc >= 0; i++)
        rc = scan_text(c, hs, nh, ans[i].text, &m);
end:
    free(hs);
    free(ans);
    db_update_free(&u);
    return rc < 0 ? rc : 0;
}

int habit_people_search(struct req *r, struct resp *o)
{
    const char *q = http_get_arg(r, "q");
    struct handle *hs;
    char fq[256];
    json_t *arr;
    size_t nh, found = 0;
    int rc;

    fold(q ? q : "", strlen(q ? q : ""), fq, sizeof(fq));
    if ((rc = load_handles(r->cat, &hs, &nh)) < 0)
        return api_db_fail(o, rc, "reading the directory");
    arr = json_array();
    for (size_t i = 0; i < nh && found < 10; i++) {
        int hit = !strncmp(handle_of(&hs[i]), fq, strlen(fq)) || !strncmp(hs[i].full, fq, strlen(fq));
        for (const char *w = strchr(hs[i].name, ' '); w && !hit; w = strchr(w + 1, ' ')) {
            char fw[256];
            const char *e = strchr(w + 1, ' ');
            fold(w + 1, e ? (size_t)(e - w - 1) : strlen(w + 1), fw, sizeof(fw));
            hit = fw[0] && !strncmp(fw, fq, strlen(fq));
        }
        if (!hit)
            continue;
        json_array_append_new(arr, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)hs[i].id, "name", hs[i].name,
                                             "handle", handle_of(&hs[i])));
        found++;
    }
    free(hs);
    return http_json(o, 200, json_pack("{s:o}", "people", arr));
}

static json_t *kudos_json(const struct db_kudos *k)
{
    return json_pack("{s:I,s:s,s:s,s:o,s:{s:I,s:s},s:s,s:I}", "update_id", (json_int_t)k->update_id,
                     "title", k->title, "kind", k->kind,
                     "comment_id", k->comment_id ? json_integer(k->comment_id) : json_null(),
                     "by", "id", (json_int_t)k->by_id, "name", k->by_name, "excerpt", k->excerpt,
                     "at", (json_int_t)k->created_at);
}

/* GET /api/people/{id}/kudos: the mentions the person received in what
 * the caller may see, newest first: {kudos: [{update_id, title, kind,
 * comment_id, by: {id, name}, excerpt, at}]}. */
static int h_person_kudos(struct req *r, struct resp *o)
{
    struct db_viewer v = { .user_id = r->user.id, .admin = r->user.role == ROLE_ADMIN };
    struct db_kudos *k;
    int64_t id;
    char tz[64];
    json_t *arr;
    size_t n;
    int rc;

    if (hc_parse_i64(r->match.params[0], 1, INT64_MAX, &id) < 0)
        return http_error(o, 404, "not_found", "there is no such person");
    if ((rc = db_habit_person_zone(r->cat, id, tz, sizeof(tz))) == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no such person");
    if (rc < 0 || (rc = db_update_kudos(r->cat, &v, id, &k, &n)) < 0)
        return api_db_fail(o, rc, "reading the kudos");
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, kudos_json(&k[i]));
    free(k);
    return http_json(o, 200, json_pack("{s:I,s:o}", "user_id", (json_int_t)id, "kudos", arr));
}

const struct route habit_routes[] = {
    { "GET", "/api/participation",      h_participation, ROLE_MEMBER, 0, NULL },
    { "GET", "/api/people/{id}/stats",  h_person_stats,  ROLE_MEMBER, 0, NULL },
    { "GET", "/api/people/{id}/kudos",  h_person_kudos,  ROLE_MEMBER, 0, NULL },
};
const size_t habit_nroutes = HC_ARRAY_LEN(habit_routes);
