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
#include <stdarg.h>
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

/*
 * What one round decides from, read with one statement per kind for
 * everybody (not a few per person): the people, who posted in the weeks
 * their clocks are in, and which of their dedupe keys are in the outbox.
 * Each person's keys are worked out first (plan_read), looked up together
 * (db_outbox_queued_many), then the same decisions as always are made
 * from the answers (plan_reminders, plan_digests). The instants of a round
 * depend only on the clock, so they are worked out once per time zone.
 */
struct plan_zone {
    const char *tz;             /* a person's time_zone (the plan's users own it) */
    int    has_week;            /* week is set */
    char   week[16];            /* the ISO week of now */
    time_t first, second;       /* the reminders' instants (second: before the 12 h rule) */
    time_t week_end;            /* next Monday 00:00 */
    char   first_local[48], second_local[48];
    int    has_digest;
    char   digest_week[16];     /* last week */
    time_t digest;
    char   digest_local[48];
    char   daily_date[16];      /* the daily digest's date and instant */
    time_t daily;
    char   daily_local[48];
};

struct plan_person {
    size_t zone;              /* index in the plan's zones */
    int    posted;            /* posted in the zone's week by now */
    size_t first, second;     /* indexes of the reminders' keys */
    size_t digest, daily;     /* of the digests' keys */
};

struct plan {
    struct schedule s;
    time_t now;
    struct db_habit_member *users;
    size_t n;
    struct plan_person *pp;
    struct plan_zone *zones;
    size_t nzones;
    char (*keys)[96];
    size_t nkeys, capkeys;
    int64_t *created;         /* per key: queued at, when found */
    int *found;
};

static size_t add_key(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t add_key(struct plan *p, const char *fmt, ...)
{
    va_list ap;

    if (p->nkeys == p->capkeys) {
        p->capkeys = p->capkeys ? p->capkeys * 2 : 64;
        p->keys = hc_realloc(p->keys, p->capkeys * sizeof(*p->keys));
    }
    va_start(ap, fmt);
    vsnprintf(p->keys[p->nkeys], sizeof(p->keys[0]), fmt, ap);
    va_end(ap);
    return p->nkeys++;
}

static void plan_free(struct plan *p)
{
    free(p->users);
    free(p->pp);
    free(p->zones);
    free(p->keys);
    free(p->created);
    free(p->found);
    memset(p, 0, sizeof(*p));
}

/* The zone tz of p, its instants worked out the first time it is seen. */
static size_t plan_zone(struct plan *p, const char *tz)
{
    const struct schedule *s = &p->s;
    struct plan_zone *z;
    time_t now = p->now, anchor;

    for (size_t i = 0; i < p->nzones; i++)
        if (!strcmp(p->zones[i].tz, tz))
            return i;
    z = &p->zones[p->nzones];
    memset(z, 0, sizeof(*z));
    z->tz = tz;
    z->has_week = hc_iso_week(now, tz, z->week, sizeof(z->week)) == 0;
    z->first = local_instant(now, tz, s->reminder_day, s->reminder_hh, s->reminder_mm);
    z->second = local_instant(now, tz, s->reminder_day + 1, s->reminder_hh, s->reminder_mm);
    z->week_end = local_instant(now, tz, 8, 0, 0);
    format_local(z->first, tz, z->first_local, sizeof(z->first_local));
    format_local(z->second, tz, z->second_local, sizeof(z->second_local));
    /* Thursday noon of this week, minus seven days, is safely last week
     * whatever daylight saving did in between. */
    anchor = local_instant(now, tz, 4, 12, 0);
    z->has_digest = hc_iso_week(anchor - 7 * DAY, tz, z->digest_week, sizeof(z->digest_week)) == 0;
    z->digest = local_instant(now, tz, s->digest_day, s->digest_hh, s->digest_mm);
    format_local(z->digest, tz, z->digest_local, sizeof(z->digest_local));
    z->daily = local_today(now, tz, 0, s->digest_hh, s->digest_mm, z->daily_date, sizeof(z->daily_date));
    if (now < z->daily)
        z->daily = local_today(now, tz, -1, s->digest_hh, s->digest_mm, z->daily_date, sizeof(z->daily_date));
    format_local(z->daily, tz, z->daily_local, sizeof(z->daily_local));
    return p->nzones++;
}

static int sorted_has(const int64_t *ids, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] == id)
            return 1;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Who posted in each week a person's reminders are for (one statement per
 * distinct week: people's clocks span at most two). DB_OK or a negative db_rc. */
static int plan_posted(struct catalog *cat, struct plan *p)
{
    for (size_t z = 0; z < p->nzones; z++) {
        int64_t *ids;
        size_t nids;
        int rc, seen = 0;

        if (!p->zones[z].has_week)
            continue;
        for (size_t k = 0; k < z && !seen; k++)
            seen = p->zones[k].has_week && !strcmp(p->zones[k].week, p->zones[z].week);
        if (seen)
            continue;
        if ((rc = db_habit_posted_set(cat, p->zones[z].week, (int64_t)p->now, &ids, &nids)) < 0)
            return rc;
        for (size_t i = 0; i < p->n; i++) {
            const struct plan_zone *pz = &p->zones[p->pp[i].zone];
            if (pz->has_week && !strcmp(pz->week, p->zones[z].week))
                p->pp[i].posted = sorted_has(ids, nids, p->users[i].id);
        }
        free(ids);
    }
    return DB_OK;
}

/* Everything a round decides from: the schedule, the people, their
 * zones' instants and their keys, who posted, which keys are queued.
 * DB_OK or a negative db_rc (p empty). */
static int plan_read(struct catalog *cat, time_t now, struct plan *p)
{
    const char **keys;
    int rc;

    memset(p, 0, sizeof(*p));
    p->now = now;
    if ((rc = load_schedule(cat, &p->s)) < 0 || (rc = db_habit_members(cat, &p->users, &p->n)) < 0)
        return rc;
    p->pp = hc_calloc(p->n ? p->n : 1, sizeof(*p->pp));
    p->zones = hc_calloc(p->n ? p->n : 1, sizeof(*p->zones));
    for (size_t i = 0; i < p->n; i++) {
        const struct db_habit_member *u = &p->users[i];
        struct plan_person *pp = &p->pp[i];
        const struct plan_zone *z;

        pp->zone = plan_zone(p, u->time_zone);
        z = &p->zones[pp->zone];
        if (u->notify_reminders && z->has_week) {
            pp->first = add_key(p, "reminder:%lld:%s:1", (long long)u->id, z->week);
            pp->second = add_key(p, "reminder:%lld:%s:2", (long long)u->id, z->week);
        }
        if (!strcmp(u->notify_updates, "off") || !z->has_digest)
            continue;
        pp->digest = add_key(p, "digest:%lld:%s", (long long)u->id, z->digest_week);
        if (!strcmp(u->notify_updates, "digest"))
            pp->daily = add_key(p, "daily:%lld:%s", (long long)u->id, z->daily_date);
    }
    if ((rc = plan_posted(cat, p)) < 0) {
        plan_free(p);
        return rc;
    }
    p->created = hc_calloc(p->nkeys ? p->nkeys : 1, sizeof(*p->created));
    p->found = hc_calloc(p->nkeys ? p->nkeys : 1, sizeof(*p->found));
    keys = hc_calloc(p->nkeys ? p->nkeys : 1, sizeof(*keys));
    for (size_t i = 0; i < p->nkeys; i++)
        keys[i] = p->keys[i];
    rc = db_outbox_queued_many(cat, keys, p->nkeys, p->created, p->found);
    free(keys);
    if (rc < 0)
        plan_free(p);
    return rc < 0 ? rc : DB_OK;
}

/* Tell fn of it, with its state (key k queued or not) and its instant on
 * the person's clock (local, or worked out when NULL). fn's value. */
static int emit(struct catalog *cat, const struct plan *p, struct sched_item *it, size_t k, const char *local,
                sched_fn fn, void *arg)
{
    it->state = p->found[k] ? SCHED_QUEUED : p->now >= it->when ? SCHED_DUE : SCHED_LATER;
    if (local)
        hc_strlcpy(it->local, local, sizeof(it->local));
    else
        format_local(it->when, it->time_zone, it->local, sizeof(it->local));
    return fn(cat, it, p->now, arg);
}

static void item_for(struct sched_item *it, const struct db_habit_member *u)
{
    it->user_id = u->id;
    it->email = u->email;
    it->name = u->name;
    it->time_zone = u->time_zone;
}

/* Reminders of person i for the week containing now. */
static int plan_reminders(struct catalog *cat, const struct plan *p, size_t i, sched_fn fn, void *arg)
{
    const struct db_habit_member *u = &p->users[i];
    const struct plan_person *pp = &p->pp[i];
    const struct plan_zone *z = &p->zones[pp->zone];
    const struct schedule *s = &p->s;
    struct sched_item it = { .kind = SCHED_REMINDER };
    time_t now = p->now, first_at;
    int rc, first_out, second_out;

    item_for(&it, u);
    if (!z->has_week)
        return 0;
    hc_strlcpy(it.label, z->week, sizeof(it.label));
    if (pp->posted)
        return 0;   /* posted (by now): nothing to remind */
    it.nth = 1;
    it.when = z->first;
    if ((int64_t)it.when < u->created_at)
        return 0;   /* the reminder time passed before they joined: no catch-up this week */
    if ((rc = emit(cat, p, &it, pp->first, z->first_local, fn, arg)))
        return rc;
    /* The second one: the next working day, in the same week, and at
     * least 12 hours after the first really went out. */
    if (!s->second || s->reminder_day > 4)
        return 0;
    it.nth = 2;
    it.when = z->second;
    first_out = p->found[pp->first];
    first_at = (time_t)p->created[pp->first];
    if (first_out && first_at + 12 * 3600 > it.when)
        it.when = first_at + 12 * 3600;
    if (it.when >= z->week_end)
        return 0;   /* would fall in the next week */
    second_out = p->found[pp->second];
    if (!first_out && !second_out) {
        /* The first has not gone out yet: the second waits for it. */
        it.state = SCHED_LATER;
        if (it.when == z->second)
            hc_strlcpy(it.local, z->second_local, sizeof(it.local));
        else
            format_local(it.when, it.time_zone, it.local, sizeof(it.local));
        return fn(cat, &it, now, arg);
    }
    return emit(cat, p, &it, pp->second, it.when == z->second ? z->second_local : NULL, fn, arg);
}

/* The weekly digest (of the previous week) and the daily digest of person i. */
static int plan_digests(struct catalog *cat, const struct plan *p, size_t i, sched_fn fn, void *arg)
{
    const struct db_habit_member *u = &p->users[i];
    const struct plan_person *pp = &p->pp[i];
    const struct plan_zone *z = &p->zones[pp->zone];
    struct sched_item it = { .kind = SCHED_DIGEST };
    time_t now = p->now;
    int rc;

    item_for(&it, u);
    if (!strcmp(u->notify_updates, "off") || !z->has_digest)
        return 0;
    hc_strlcpy(it.label, z->digest_week, sizeof(it.label));
    it.when = z->digest;
    /* A digest more than two days late (the server was off) is news no
     * more: skip it rather than send last week's summary on a Friday. */
    if (now < it.when + 2 * DAY && (rc = emit(cat, p, &it, pp->digest, z->digest_local, fn, arg)))
        return rc;
    if (strcmp(u->notify_updates, "digest"))
        return 0;
    it.kind = SCHED_DAILY;
    it.when = z->daily;
    hc_strlcpy(it.label, z->daily_date, sizeof(it.label));
    return emit(cat, p, &it, pp->daily, z->daily_local, fn, arg);
}

/* fn for every item of a plan read by plan_read. */
static int plan_walk(struct catalog *cat, const struct plan *p, sched_fn fn, void *arg)
{
    int rc = 0;

    for (size_t i = 0; i < p->n && !rc; i++) {
        if (p->users[i].notify_reminders && (rc = plan_reminders(cat, p, i, fn, arg)))
            break;
        rc = plan_digests(cat, p, i, fn, arg);
    }
    return rc;
}

int sched_plan(struct catalog *cat, time_t now, sched_fn fn, void *arg)
{
    struct plan p;
    int rc;

    if ((rc = plan_read(cat, now, &p)) < 0)
        return rc;
    rc = plan_walk(cat, &p, fn, arg);
    plan_free(&p);
    return rc;
}

/*
 * Queueing: each due message is written (rendered) as the plan is walked
 * and held in a mail batch, which reads what messages share once (the
 * recipients, the participation of a week, a digest's updates); every
 * RUN_CHUNK messages, and at the end, the held ones go to the outbox in one
 * transaction (one commit, not one per message). The caller's fn hears of
 * each after its commit, in plan order. A failed write loses nothing: the
 * next round finds the same messages due and writes them then.
 */
#define RUN_CHUNK 256

struct run_ctx {
    sched_fn fn;       /* the caller's, told of each queued item */
    void    *arg;
    int      queued;
    const struct plan *plan;
    struct mail_batch *batch;
    struct sched_item *held;   /* the items of the batch's messages, in order */
    size_t   nheld, capheld;
};

/* Write the held messages; tell fn of those queued. 0 or a negative db_rc. */
static int run_flush(struct catalog *cat, struct run_ctx *x, time_t now)
{
    int *queued = hc_calloc(x->nheld ? x->nheld : 1, sizeof(*queued));
    int rc = mail_batch_write(cat, x->batch, queued);

    for (size_t i = 0; i < x->nheld && rc >= 0; i++) {
        if (!queued[i])
            continue;
        x->held[i].state = SCHED_QUEUED;
        x->queued++;
        if (x->fn && (rc = x->fn(cat, &x->held[i], now, x->arg)) > 0)
            rc = 0;
    }
    x->nheld = 0;
    free(queued);
    return rc < 0 ? rc : 0;
}

static int run_item(struct catalog *cat, const struct sched_item *it, time_t now, void *arg)
{
    struct run_ctx *x = arg;
    int r = 0;

    if (it->state != SCHED_DUE)
        return 0;
    switch (it->kind) {
    case SCHED_REMINDER:
        r = mail_queue_reminder(cat, x->batch, it->user_id, it->label, it->nth, now);
        break;
    case SCHED_DIGEST:
        r = mail_queue_weekly_digest(cat, x->batch, it->user_id, it->label, now);
        break;
    case SCHED_DAILY: {
        const struct schedule *s = &x->plan->s;
        time_t from = local_today(it->when, it->time_zone, -1, s->digest_hh, s->digest_mm, NULL, 0);
        r = mail_queue_daily_digest(cat, x->batch, it->user_id, it->label, from, it->when, now);
        break;
    }
    }
    if (r < 0)
        return r;
    if (r > 0) {
        if (x->nheld == x->capheld) {
            x->capheld = x->capheld ? x->capheld * 2 : 64;
            x->held = hc_realloc(x->held, x->capheld * sizeof(*x->held));
        }
        x->held[x->nheld++] = *it;
        if (x->nheld >= RUN_CHUNK)
            return run_flush(cat, x, now);
    }
    return 0;
}

int sched_run(struct catalog *cat, time_t now, sched_fn fn, void *arg)
{
    struct run_ctx x = { .fn = fn, .arg = arg };
    struct plan p;
    int rc;

    if ((rc = plan_read(cat, now, &p)) < 0)
        return rc;
    x.plan = &p;
    x.batch = mail_batch_new();
    rc = plan_walk(cat, &p, run_item, &x);
    if (rc >= 0 && x.nheld)
        rc = run_flush(cat, &x, now);   /* while the items' names are p's */
    mail_batch_free(x.batch);
    free(x.held);
    plan_free(&p);
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
