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
 * No catch-up: when this week's reminder time passed before the person
 * joined (or before the company was set up), they get no reminder that
 * week; the next week's comes at its time.
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
#include "db_habit.h"
#include "db_outbox.h"
#include "db_settings.h"
#include "db_uploads.h"
#include "upload_store.h"
#include "isoweek.h"
#include "leader.h"
#include "layout.h"
#include "mail.h"
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

/* A setting as a number in [min, max]; dflt when unset or not one.
 * DB_OK or a negative db_rc (a failed read is not the default). */
static int setting_int(struct catalog *cat, const char *key, long min, long max, int dflt, int *out)
{
    char *v = NULL;
    long n;
    int rc = db_setting_get(cat, key, &v);

    *out = rc == DB_OK && hc_parse_long(v, min, max, &n) == 0 ? (int)n : dflt;
    free(v);
    return rc == DB_NOTFOUND ? DB_OK : rc;
}

/* hh:mm from a setting, or the default. DB_OK or a negative db_rc. */
static int setting_hhmm(struct catalog *cat, const char *key, int dh, int dm, int *hh, int *mm)
{
    char *v = NULL;
    int rc = db_setting_get(cat, key, &v);

    if (rc != DB_OK || parse_hhmm(v, hh, mm) < 0) {
        *hh = dh;
        *mm = dm;
    }
    free(v);
    return rc == DB_NOTFOUND ? DB_OK : rc;
}

static int load_schedule(struct catalog *cat, struct schedule *s)
{
    int rc;

    if ((rc = setting_int(cat, "reminder_day", 1, 7, 4, &s->reminder_day)) < 0 ||
        (rc = setting_int(cat, "reminder_second", 0, 1, 1, &s->second)) < 0 ||
        (rc = setting_int(cat, "digest_day", 1, 7, 1, &s->digest_day)) < 0 ||
        (rc = setting_hhmm(cat, "reminder_time", 10, 0, &s->reminder_hh, &s->reminder_mm)) < 0 ||
        (rc = setting_hhmm(cat, "digest_time", 8, 0, &s->digest_hh, &s->digest_mm)) < 0)
        return rc;
    return DB_OK;
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

/* Is the message with this dedupe key in the outbox? DB_OK with *is_queued
 * (and *created, if given), or a negative db_rc. */
static int queued(struct catalog *cat, const char *key, int *is_queued, time_t *created)
{
    int64_t t = 0;
    int rc = db_outbox_queued_at(cat, key, &t);

    *is_queued = rc == DB_OK;
    if (created)
        *created = (time_t)t;
    return rc == DB_NOTFOUND ? DB_OK : rc;
}

/* Tell fn of it, with its state. fn's value, or a negative db_rc. */
static int emit(struct catalog *cat, struct sched_item *it, const char *key, time_t now,
                sched_fn fn, void *arg)
{
    int q, rc;

    if ((rc = queued(cat, key, &q, NULL)) < 0)
        return rc;
    it->state = q ? SCHED_QUEUED : now >= it->when ? SCHED_DUE : SCHED_LATER;
    format_local(it->when, it->time_zone, it->local, sizeof(it->local));
    return fn(cat, it, now, arg);
}

static void item_for(struct sched_item *it, const struct db_habit_member *u)
{
    it->user_id = u->id;
    it->email = u->email;
    it->name = u->name;
    it->time_zone = u->time_zone;
}

/* Reminders of one person for the week containing now. */
static int plan_reminders(struct catalog *cat, const struct db_habit_member *u, const struct schedule *s,
                          time_t now, sched_fn fn, void *arg)
{
    struct sched_item it = { .kind = SCHED_REMINDER };
    char key[96];
    time_t first_at;
    int rc, first_out, second_out, posted;

    item_for(&it, u);
    if (hc_iso_week(now, it.time_zone, it.label, sizeof(it.label)) < 0)
        return 0;
    if ((rc = db_habit_has_posted(cat, it.user_id, it.label, (int64_t)now, &posted)) < 0)
        return rc;
    if (posted)
        return 0;   /* posted (by now): nothing to remind */
    it.nth = 1;
    it.when = local_instant(now, it.time_zone, s->reminder_day, s->reminder_hh, s->reminder_mm);
    if ((int64_t)it.when < u->created_at)
        return 0;   /* the reminder time passed before they joined: no catch-up this week */
    snprintf(key, sizeof(key), "reminder:%lld:%s:1", (long long)it.user_id, it.label);
    if ((rc = emit(cat, &it, key, now, fn, arg)))
        return rc;
    /* The second one: the next working day, in the same week, and at
     * least 12 hours after the first really went out. */
    if (!s->second || s->reminder_day > 4)
        return 0;
    it.nth = 2;
    it.when = local_instant(now, it.time_zone, s->reminder_day + 1, s->reminder_hh, s->reminder_mm);
    if ((rc = queued(cat, key, &first_out, &first_at)) < 0)
        return rc;
    if (first_out && first_at + 12 * 3600 > it.when)
        it.when = first_at + 12 * 3600;
    if (it.when >= local_instant(now, it.time_zone, 8, 0, 0))
        return 0;   /* would fall in the next week */
    snprintf(key, sizeof(key), "reminder:%lld:%s:2", (long long)it.user_id, it.label);
    if ((rc = queued(cat, key, &second_out, NULL)) < 0)
        return rc;
    if (!first_out && !second_out) {
        /* The first has not gone out yet: the second waits for it. */
        it.state = SCHED_LATER;
        format_local(it.when, it.time_zone, it.local, sizeof(it.local));
        return fn(cat, &it, now, arg);
    }
    return emit(cat, &it, key, now, fn, arg);
}

/* The weekly digest (of the previous week) and the daily digest. */
static int plan_digests(struct catalog *cat, const struct db_habit_member *u, const struct schedule *s,
                        time_t now, sched_fn fn, void *arg)
{
    struct sched_item it = { .kind = SCHED_DIGEST };
    const char *pref = u->notify_updates;
    char key[96];
    time_t anchor;
    int rc;

    item_for(&it, u);
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
    struct db_habit_member *users;
    size_t n;
    int rc;

    if ((rc = load_schedule(cat, &s)) < 0 || (rc = db_habit_members(cat, &users, &n)) < 0)
        return rc;
    rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (users[i].notify_reminders && (rc = plan_reminders(cat, &users[i], &s, now, fn, arg)))
            break;
        rc = plan_digests(cat, &users[i], &s, now, fn, arg);
    }
    free(users);
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
        if ((r = load_schedule(cat, &s)) < 0)
            return r;
        from = local_today(it->when, it->time_zone, -1, s.digest_hh, s.digest_mm, NULL, 0);
        r = mail_queue_daily_digest(cat, it->user_id, it->label, from, it->when, now);
        break;
    }
    }
    if (r < 0)
        return r;
    if (r > 0) {
        struct sched_item done = *it;
        done.state = SCHED_QUEUED;
        x->queued++;
        if (x->fn && (r = x->fn(cat, &done, now, x->arg)) < 0)
            return r;
    }
    return 0;
}

int sched_run(struct catalog *cat, time_t now, sched_fn fn, void *arg)
{
    struct run_ctx x = { fn, arg, 0 };
    int rc = sched_plan(cat, now, run_item, &x);

    return rc < 0 ? rc : x.queued;
}

/* ---- the thread ---- */

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int stopping, running;

/* Abandoned uploads: remove their row, then their bytes (on disk, or
 * the multipart upload and tail in the S3 store). DB_OK or a negative
 * db_rc (the rest waits for the next tick). */
static int expire_uploads(struct catalog *cat, const struct conf *c)
{
    char (*ids)[DB_UPLOAD_ID_SIZE], part[LAYOUT_PATH_MAX], mpu[256];
    struct s3_client *cli = NULL;
    size_t n;
    int rc = db_upload_expired(cat, (int64_t)hc_now(), &ids, &n);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        int64_t live = 0;

        mpu[0] = '\0';
        if ((rc = db_upload_s3_id(cat, ids[i], mpu, sizeof(mpu))) == DB_NOTFOUND) {
            rc = DB_OK;
            continue;
        }
        if (rc < 0)
            break;
        /* A live upload's update ends failed, never published. */
        rc = db_upload_expire(cat, ids[i], "the recording stopped arriving and was not finished in time",
                              (int64_t)hc_now(), &live);
        if (rc == DB_NOTFOUND || rc == DB_INVALID) {   /* gone or finished meanwhile */
            rc = DB_OK;
            continue;
        }
        if (rc < 0)
            break;
        if (mpu[0]) {
            /* What stays in the store when this fails, the sweep aborts. */
            if (cli || (cli = ustore_client(c)))
                ustore_discard(cli, ids[i], mpu);
        } else if (layout_upload_part(c->data_dir, ids[i], part, sizeof(part)) == 0) {
            unlink(part);
        }
        if (live && layout_update_media(c->data_dir, live, part, sizeof(part)) == 0)
            hc_rmtree(part);
        hc_log("scheduler: removed abandoned upload %s", ids[i]);
    }
    ustore_client_give(&cli);
    free(ids);
    return rc < 0 ? rc : DB_OK;
}

/* With the S3 store, now and then: abort the multipart uploads under
 * uploads/ older than the upload expiry that no upload knows. */
static void sweep_store(struct catalog *cat, const struct conf *c, time_t *next)
{
    time_t now = hc_now();
    int every = c->upload_expiry / 2 < 600 ? c->upload_expiry / 2 : 600;
    struct s3_client *cli;

    if (now < *next || ustore_enabled(c) != 1)
        return;
    *next = now + (every > 1 ? every : 1);
    if (!(cli = ustore_client(c)))
        return;
    ustore_sweep(cli, cat, now, c->upload_expiry);
    ustore_client_give(&cli);
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
    struct leader *lead = NULL;
    time_t next_sweep = 0;
    int rc;

    conf_catalog(c, path, sizeof(path));
    cat = catalog_open(path, 0, err, sizeof(err));
    if (!cat) {
        hc_log("scheduler: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&lock);
    while (!stopping) {
        pthread_mutex_unlock(&lock);
        /* One scheduler across every server of a PostgreSQL catalog: the
         * one that leads "scheduler" (on SQLite, always this one). */
        if (!lead && !(lead = leader_open(path, "scheduler", err, sizeof(err))))
            hc_log("scheduler: %s", err);
        if (!lead || leader_hold(lead) != 1)
            goto next;
        /* A failed read is never "nothing due": say so, and the next tick
         * (two seconds on) tries again; dedupe keys keep that exactly-once. */
        if ((rc = expire_uploads(cat, c)) < 0)
            hc_log("scheduler: cannot expire abandoned uploads (%s); trying again shortly", db_rc_name(rc));
        sweep_store(cat, c, &next_sweep);
        if ((rc = sched_run(cat, hc_now(), log_queued, NULL)) < 0)
            hc_log("scheduler: cannot queue reminders and digests (%s); trying again shortly", db_rc_name(rc));
next:
        pthread_mutex_lock(&lock);
        if (!stopping)
            hc_cond_wait_seconds(&wake, &lock, 2);
    }
    pthread_mutex_unlock(&lock);
    leader_close(lead);
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
