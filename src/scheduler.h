/*
 * scheduler.h - periodic work inside `hubcast serve`: expiring abandoned
 * uploads, weekly reminders, daily and weekly digests.
 *
 * What is due is a pure function of (now, catalog): sched_plan() lists it,
 * sched_run() queues it. The thread calls sched_run(hc_now()) every few
 * seconds; `hubcast remind --at INSTANT` calls the same functions for any
 * instant, which is how tests cross weeks and daylight-saving changes.
 */
#ifndef HUBCAST_SCHEDULER_H
#define HUBCAST_SCHEDULER_H

#include <stdint.h>
#include <time.h>

struct conf;
struct catalog;

enum sched_state {
    SCHED_LATER,     /* due at `when`, later than now */
    SCHED_DUE,       /* due now and not queued yet */
    SCHED_QUEUED     /* already in the outbox */
};

enum sched_kind {
    SCHED_REMINDER,  /* the weekly reminder (nth = 1) or the gentler second one (nth = 2) */
    SCHED_DIGEST,    /* the weekly digest of `label` (the previous ISO week) */
    SCHED_DAILY      /* the daily digest of new updates; label = local date */
};

struct sched_item {
    enum sched_kind  kind;
    enum sched_state state;
    int64_t     user_id;
    const char *email;       /* valid during the callback only */
    const char *name;
    const char *time_zone;
    char        label[16];   /* ISO week ("2026-W43") or local date ("2026-10-22") */
    int         nth;         /* reminders: 1 or 2 */
    time_t      when;        /* the instant it is or was due */
    char        local[48];   /* `when` on the person's clock: "Thu 2026-10-22 10:00 +02:00" */
};

typedef int (*sched_fn)(struct catalog *cat, const struct sched_item *it, time_t now, void *arg);

/* Call fn for every reminder and digest of the week containing now, per
 * person, with its state. Reminders only for people who have not posted.
 * Returns 0, or the first non-zero value fn returned, or a negative enum
 * db_rc when the catalog could not be read (never 0: a failed read is not
 * "nothing due"). */
int sched_plan(struct catalog *cat, time_t now, sched_fn fn, void *arg);

/* Queue everything due at now; fn (may be NULL) hears of each queued item.
 * Returns the number of messages queued, or a negative enum db_rc. */
int sched_run(struct catalog *cat, time_t now, sched_fn fn, void *arg);

int  scheduler_start(const struct conf *conf);
void scheduler_stop(void);

#endif
