/*
 * cmd_remind.c - `hubcast remind [--dry-run] [--at INSTANT]`: what the
 * scheduler would do at an instant. With --dry-run, prints who would be
 * reminded and when, one line per reminder, on each person's own clock;
 * without it, queues what is due at that instant (reminders and digests)
 * exactly as the running server would, and prints what it queued; with
 * --until, does so every --step seconds from --at to --until, like the
 * server's scheduler over that period.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "commands.h"
#include "conf.h"
#include "scheduler.h"
#include "util.h"

static void utc(time_t t, char *out, size_t outsz)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *kind_name(const struct sched_item *it)
{
    if (it->kind == SCHED_REMINDER)
        return it->nth == 1 ? "reminder" : "reminder2";
    return it->kind == SCHED_DIGEST ? "digest" : "daily";
}

/* state  kind  label  when(UTC)  when(local)  zone  name <email> */
static int print_item(struct catalog *cat, const struct sched_item *it, time_t now, void *arg)
{
    static const char *const states[] = { "later", "due", "sent" };
    const int *all = arg;
    char when[32];

    (void)cat;
    (void)now;
    if (!*all && it->kind != SCHED_REMINDER)
        return 0;
    utc(it->when, when, sizeof(when));
    printf("%-6s %-9s %-10s %s  %s  %-20s %s <%s>\n", states[it->state], kind_name(it), it->label, when,
           it->local, it->time_zone, it->name, it->email);
    return 0;
}

static int print_queued(struct catalog *cat, const struct sched_item *it, time_t now, void *arg)
{
    char when[32];

    (void)cat;
    (void)arg;
    utc(now, when, sizeof(when));
    printf("queued %-9s %-10s %s  %s  %-20s %s <%s>\n", kind_name(it), it->label, when, it->local,
           it->time_zone, it->name, it->email);
    return 0;
}

static void usage(void)
{
    puts("Usage: hubcast remind [--dry-run] [--at INSTANT] [--all] [--data DIR]\n"
         "       hubcast remind --at INSTANT --until INSTANT [--step SECONDS] [--data DIR]\n\n"
         "What the scheduler does at INSTANT (default: now), in each person's time zone.\n"
         "  --dry-run      only print who would be reminded, and when; queue nothing.\n"
         "                 One line per reminder: state (due, later, sent), reminder or\n"
         "                 reminder2, ISO week, due instant (UTC), due time on the\n"
         "                 person's clock, time zone, name and address.\n"
         "  --all          with --dry-run, also list the weekly and daily digests\n"
         "  --at INSTANT   an ISO 8601 instant, e.g. 2026-10-22T08:00:00Z\n"
         "Without --dry-run, queues what is due at INSTANT (reminders and digests)\n"
         "into the outbox, as the server would; `hubcast serve` sends it. With\n"
         "--until, does that every --step seconds (default 60) up to --until.\n");
    conf_usage(OPT_DATA | OPT_MAIL);
}

int cmd_remind(int argc, char **argv)
{
    struct conf c;
    struct catalog *cat;
    const char *at = NULL, *until = NULL, *step = "60";
    time_t end;
    long stepsec;
    int dry = 0, all = 0, n, rc, ret = 0, dbrc = DB_OK;
    char **rest, when[32];
    time_t now;

    conf_defaults(&c);
    rest = hc_calloc((size_t)argc + 1, sizeof(char *));
    n = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--dry-run"))
            dry = 1;
        else if (!strcmp(argv[i], "--all"))
            all = 1;
        else if (!strcmp(argv[i], "--at") && i + 1 < argc)
            at = argv[++i];
        else if (!strncmp(argv[i], "--at=", 5))
            at = argv[i] + 5;
        else if (!strcmp(argv[i], "--until") && i + 1 < argc)
            until = argv[++i];
        else if (!strncmp(argv[i], "--until=", 8))
            until = argv[i] + 8;
        else if (!strcmp(argv[i], "--step") && i + 1 < argc)
            step = argv[++i];
        else if (!strncmp(argv[i], "--step=", 7))
            step = argv[i] + 7;
        else
            rest[n++] = argv[i];
    }
    if ((rc = conf_load(&c, OPT_DATA | OPT_MAIL, n, rest, &n)) != 0 || n > 0) {
        if (rc > 0)
            usage();
        else if (rc == 0)
            fprintf(stderr, "hubcast: remind takes no arguments (\"%s\"); see --help\n", rest[0]);
        free(rest);
        return rc > 0 ? 0 : 2;
    }
    free(rest);
    hc_clock_init(c.test_clock);
    catalog_fault_init(c.test_clock);
    now = hc_now();
    if (at && hc_parse_instant(at, &now) < 0) {
        fprintf(stderr, "hubcast: --at %s is not an ISO 8601 instant (e.g. 2026-10-22T08:00:00Z)\n", at);
        return 2;
    }
    end = now;
    if (until && (hc_parse_instant(until, &end) < 0 || end < now || dry)) {
        fprintf(stderr, "hubcast: --until needs an instant after --at, and no --dry-run\n");
        return 2;
    }
    if (hc_parse_long(step, 1, 7 * 86400, &stepsec) < 0) {
        fprintf(stderr, "hubcast: --step is a number of seconds (1 to 604800)\n");
        return 2;
    }
    if (!(cat = hc_open_catalog(&c, 1)))
        return 1;
    utc(now, when, sizeof(when));
    if (dry) {
        printf("# at %s\n", when);
        if ((dbrc = sched_plan(cat, now, print_item, &all)) < 0)
            ret = 1;
    } else {
        /* One tick, or the ticks of a whole period (a simulation). */
        for (time_t t = now; t <= end && !ret; t += stepsec)
            if ((dbrc = sched_run(cat, t, print_queued, NULL)) < 0)
                ret = 1;
    }
    if (ret)
        fprintf(stderr, "hubcast: the catalog could not be read or written (%s)\n", db_rc_name(dbrc));
    catalog_close(cat);
    return ret;
}
