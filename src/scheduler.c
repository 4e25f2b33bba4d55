/*
 * scheduler.c - one thread that wakes every few seconds, reads the one
 * clock (hc_now) and does what is due: removes abandoned uploads, queues
 * the weekly reminders and the daily and weekly digests. Every decision is
 * made in each person's own time zone, from the catalog and `now` alone
 * (sched_plan), so `hubcast remind --at` answers exactly as this thread
 * would at that instant.
 *
 * Once only: every scheduled message has an outbox dedupe key
 * ("reminder:<user>:<week>:<n>", "digest:<user>:<week>",
 * "daily:<user>:<date>"), so running twice at the same instant, or in two
 * processes, queues nothing twice.
 *
 * Not here: what the messages say and how they are sent (mail.c).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "conf.h"
#include "isoweek.h"
#include "mail.h"
#include "db_uploads.h"
#include "layout.h"
#include "scheduler.h"
#include "util.h"

#define DAY 86400

/* The schedule, from the settings table. */
struct schedule {
    int  reminder_day;      /* ISO weekday 1..7 */
    int  reminder_hh, reminder_mm;
    int  second;            /* send the gentler second reminder */
    int  digest_day;
    int  digest_hh, digest_mm;
};

static int parse_hhmm(const char *s, int *hh, int *mm)
{
    long h, m;
    char buf[8];

    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    memcpy(buf, s, 2);
    buf[2] = '\0';
    if (hc_parse_long(buf, 0, 23, &h) < 0 || hc_parse_long(s + 3, 0, 59, &m) < 0)
        return -1;
    *hh = (int)h;
    *mm = (int)m;
    return 0;
}

static int setting_int(struct catalog *cat, const char *key, long min, long max, int dflt)
{
    char *v = cat_setting(cat, key);
    long n;
    int r = v && hc_parse_long(v, min, max, &n) == 0 ? (int)n : dflt;
    free(v);
    return r;
}

static void load_schedule(struct catalog *cat, struct schedule *s)
{
    char *rt = cat_setting(cat, "reminder_time"), *dt = cat_setting(cat, "digest_time");

    s->reminder_day = setting_int(cat, "reminder_day", 1, 7, 4);
    s->second = setting_int(cat, "reminder_second", 0, 1, 1);
    s->digest_day = setting_int(cat, "digest_day", 1, 7, 1);
    if (parse_hhmm(rt, &s->reminder_hh, &s->reminder_mm) < 0) {
        s->reminder_hh = 10;
        s->reminder_mm = 0;
    }
    if (parse_hhmm(dt, &s->digest_hh, &s->digest_mm) < 0) {
        s->digest_hh = 8;
        s->digest_mm = 0;
    }
    free(rt);
    free(dt);
}

/*
 * The instant of hh:mm on ISO weekday `isoday` of the week containing t,
 * on the clock of zone tz (isoday 8 = next Monday). A wall time skipped by
 * a daylight-saving change resolves to the instant mktime picks (an hour
 * later); a repeated one to its first occurrence.
 */
static time_t local_instant(time_t t, const char *tz, int isoday, int hh, int mm)
{
    struct tm tm;
    int wd;

    if (hc_localtime_tz(t, tz, &tm) < 0)
        return (time_t)-1;
    wd = tm.tm_wday == 0 ? 7 : tm.tm_wday;
    tm.tm_mday += isoday - wd;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = 0;
    return hc_mktime_tz(&tm, tz);
}

/* hh:mm today (local date of t in tz), shifted by `days` days. */
static time_t local_today(time_t t, const char *tz, int days, int hh, int mm, char *date, size_t datesz)
{
    struct tm tm;
    time_t r;

    if (hc_localtime_tz(t, tz, &tm) < 0)
        return (time_t)-1;
    tm.tm_mday += days;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = 0;
    r = hc_mktime_tz(&tm, tz);
    if (date)
        strftime(date, datesz, "%Y-%m-%d", &tm);
    return r;
}

static void format_local(time_t t, const char *tz, char *out, size_t outsz)
{
    struct tm tm;
    char day[24];
    int off;

    if (hc_localtime_tz(t, tz, &tm) < 0) {
        hc_strlcpy(out, "?", outsz);
        return;
    }
    strftime(day, sizeof(day), "%a %Y-%m-%d %H:%M", &tm);
    off = (int)(tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff) % 86400;
    snprintf(out, outsz, "%s %c%02d:%02d", day, tm.tm_gmtoff < 0 ? '-' : '+', off / 3600, off % 3600 / 60);
}

static int queued(struct catalog *cat, const char *key, time_t *created)
{
    int64_t t = cat_int(cat, -1, "SELECT created_at FROM outbox WHERE dedupe_key = ?", "s", key);
    if (created)
        *created = (time_t)t;
    return t >= 0;
}

static int emit(struct catalog *cat, struct sched_item *it, const char *key, time_t now,
                sched_fn fn, void *arg)
{
    it->state = queued(cat, key, NULL) ? SCHED_QUEUED : now >= it->when ? SCHED_DUE : SCHED_LATER;
    format_local(it->when, it->time_zone, it->local, sizeof(it->local));
    return fn(cat, it, now, arg);
}

/* Reminders of one person for the week containing now. */
static int plan_reminders(struct catalog *cat, json_t *u, const struct schedule *s, time_t now,
                          sched_fn fn, void *arg)
{
    struct sched_item it = { .kind = SCHED_REMINDER };
    char key[96];
    time_t first_at;
    int rc, first_out;

    it.user_id = json_integer_value(json_object_get(u, "id"));
    it.email = json_string_value(json_object_get(u, "email"));
    it.name = json_string_value(json_object_get(u, "name"));
    it.time_zone = json_string_value(json_object_get(u, "time_zone"));
    if (hc_iso_week(now, it.time_zone, it.label, sizeof(it.label)) < 0)
        return 0;
    if (cat_int(cat, 0, "SELECT COUNT(*) FROM updates WHERE author_id = ? AND iso_week = ? "
                        "AND status IN ('queued', 'processing', 'ready') AND created_at <= ?", "IsI",
                it.user_id, it.label, (int64_t)now))
        return 0;   /* posted (by now): nothing to remind */
    it.nth = 1;
    it.when = local_instant(now, it.time_zone, s->reminder_day, s->reminder_hh, s->reminder_mm);
    snprintf(key, sizeof(key), "reminder:%lld:%s:1", (long long)it.user_id, it.label);
    if ((rc = emit(cat, &it, key, now, fn, arg)))
        return rc;
    /* The second one: the next working day, in the same week, and at
     * least 12 hours after the first really went out. */
    if (!s->second || s->reminder_day > 4)
        return 0;
    it.nth = 2;
    it.when = local_instant(now, it.time_zone, s->reminder_day + 1, s->reminder_hh, s->reminder_mm);
    first_out = queued(cat, key, &first_at);
    if (first_out && first_at + 12 * 3600 > it.when)
        it.when = first_at + 12 * 3600;
    if (it.when >= local_instant(now, it.time_zone, 8, 0, 0))
        return 0;   /* would fall in the next week */
    snprintf(key, sizeof(key), "reminder:%lld:%s:2", (long long)it.user_id, it.label);
    if (!first_out && !queued(cat, key, NULL)) {
        /* The first has not gone out yet: the second waits for it. */
        it.state = SCHED_LATER;
        format_local(it.when, it.time_zone, it.local, sizeof(it.local));
        return fn(cat, &it, now, arg);
    }
    return emit(cat, &it, key, now, fn, arg);
}

/* The weekly digest (of the previous week) and the daily digest. */
static int plan_digests(struct catalog *cat, json_t *u, const struct schedule *s, time_t now,
                        sched_fn fn, void *arg)
{
    struct sched_item it = { .kind = SCHED_DIGEST };
    const char *pref = json_string_value(json_object_get(u, "notify_updates"));
    char key[96];
    time_t anchor;
    int rc;

    it.user_id = json_integer_value(json_object_get(u, "id"));
    it.email = json_string_value(json_object_get(u, "email"));
    it.name = json_string_value(json_object_get(u, "name"));
    it.time_zone = json_string_value(json_object_get(u, "time_zone"));
    if (!strcmp(pref, "off"))
        return 0;
    /* Thursday noon of this week, minus seven days, is safely last week
     * whatever daylight saving did in between. */
    anchor = local_instant(now, it.time_zone, 4, 12, 0);
    if (hc_iso_week(anchor - 7 * DAY, it.time_zone, it.label, sizeof(it.label)) < 0)
        return 0;
    it.when = local_instant(now, it.time_zone, s->digest_day, s->digest_hh, s->digest_mm);
    snprintf(key, sizeof(key), "digest:%lld:%s", (long long)it.user_id, it.label);
    /* A digest more than two days late (the server was off) is news no
     * more: skip it rather than send last week's summary on a Friday. */
    if (now < it.when + 2 * DAY && (rc = emit(cat, &it, key, now, fn, arg)))
        return rc;
    if (strcmp(pref, "digest"))
        return 0;
    it.kind = SCHED_DAILY;
    it.when = local_today(now, it.time_zone, 0, s->digest_hh, s->digest_mm, it.label, sizeof(it.label));
    if (now < it.when)
        it.when = local_today(now, it.time_zone, -1, s->digest_hh, s->digest_mm, it.label, sizeof(it.label));
    snprintf(key, sizeof(key), "daily:%lld:%s", (long long)it.user_id, it.label);
    return emit(cat, &it, key, now, fn, arg);
}

int sched_plan(struct catalog *cat, time_t now, sched_fn fn, void *arg)
{
    struct schedule s;
    json_t *users, *u;
    size_t i;
    int rc = 0;

    load_schedule(cat, &s);
    users = cat_rows(cat, "SELECT id, email, name, time_zone, notify_updates, notify_reminders FROM users "
                          "WHERE deactivated = 0 AND unsubscribed = 0 ORDER BY id", "");
    if (!users)
        return -1;
    json_array_foreach(users, i, u) {
        if (json_integer_value(json_object_get(u, "notify_reminders")) &&
            (rc = plan_reminders(cat, u, &s, now, fn, arg)))
            break;
        if ((rc = plan_digests(cat, u, &s, now, fn, arg)))
            break;
    }
    json_decref(users);
    return rc;
}

struct run_ctx {
    sched_fn fn;       /* the caller's, told of each queued item */
    void    *arg;
    int      queued;
};

static int run_item(struct catalog *cat, const struct sched_item *it, time_t now, void *arg)
{
    struct run_ctx *x = arg;
    int r = 0;

    if (it->state != SCHED_DUE)
        return 0;
    switch (it->kind) {
    case SCHED_REMINDER:
        r = mail_queue_reminder(cat, it->user_id, it->label, it->nth, now);
        break;
    case SCHED_DIGEST:
        r = mail_queue_weekly_digest(cat, it->user_id, it->label, now);
        break;
    case SCHED_DAILY: {
        struct schedule s;
        time_t from;
        load_schedule(cat, &s);
        from = local_today(it->when, it->time_zone, -1, s.digest_hh, s.digest_mm, NULL, 0);
        r = mail_queue_daily_digest(cat, it->user_id, it->label, from, it->when, now);
        break;
    }
    }
    if (r < 0)
        return -1;
    if (r > 0) {
        struct sched_item done = *it;
        done.state = SCHED_QUEUED;
        x->queued++;
        if (x->fn && x->fn(cat, &done, now, x->arg) < 0)
            return -1;
    }
    return 0;
}

int sched_run(struct catalog *cat, time_t now, sched_fn fn, void *arg)
{
    struct run_ctx x = { fn, arg, 0 };

    if (sched_plan(cat, now, run_item, &x) < 0)
        return -1;
    return x.queued;
}

/* ---- the thread ---- */

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int stopping, running;

/* Abandoned uploads: remove their row, then their bytes. */
static void expire_uploads(struct catalog *cat, const struct conf *c)
{
    char (*ids)[DB_UPLOAD_ID_SIZE], part[LAYOUT_PATH_MAX];
    size_t n;
    int rc = db_upload_expired(cat, (int64_t)hc_now(), &ids, &n);

    if (rc < 0) {
        hc_log("scheduler: cannot list abandoned uploads: %s", db_rc_name(rc));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (db_upload_delete(cat, ids[i]) < 0)
            continue;
        if (layout_upload_part(c->data_dir, ids[i], part, sizeof(part)) == 0)
            unlink(part);
        hc_log("scheduler: removed abandoned upload %s", ids[i]);
    }
    free(ids);
}

static int log_queued(struct catalog *cat, const struct sched_item *it, time_t now, void *arg)
{
    (void)cat;
    (void)now;
    (void)arg;
    hc_log("scheduler: queued %s %s for %s (%s, due %s)",
           it->kind == SCHED_REMINDER ? (it->nth == 1 ? "reminder" : "second reminder")
                                      : it->kind == SCHED_DIGEST ? "weekly digest" : "daily digest",
           it->label, it->email, it->time_zone, it->local);
    return 0;
}

static void *run(void *arg)
{
    const struct conf *c = arg;
    char err[512], path[1100];
    struct catalog *cat;
    struct timespec ts;

    catalog_path(c->data_dir, path, sizeof(path));
    cat = catalog_open(path, 0, err, sizeof(err));
    if (!cat) {
        hc_log("scheduler: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&lock);
    while (!stopping) {
        pthread_mutex_unlock(&lock);
        expire_uploads(cat, c);
        if (sched_run(cat, hc_now(), log_queued, NULL) < 0)
            hc_log("scheduler: %s", cat_errmsg(cat));
        pthread_mutex_lock(&lock);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 2;
        if (!stopping)
            pthread_cond_timedwait(&wake, &lock, &ts);
    }
    pthread_mutex_unlock(&lock);
    catalog_close(cat);
    return NULL;
}

int scheduler_start(const struct conf *conf)
{
    if (pthread_create(&thread, NULL, run, (void *)conf) != 0)
        return -1;
    running = 1;
    return 0;
}

void scheduler_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    running = 0;
}
