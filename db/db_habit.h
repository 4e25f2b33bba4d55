/*
 * db_habit.h - the data layer of the weekly habit: participation per ISO
 * week (overall and per team), each person's weeks with updates (for
 * streaks), whether someone has posted in a week (reminders), and the
 * people reminders and digests are for. Read-only. Typed functions
 * returning enum db_rc (catalog.h); no caller outside db/ sees SQL.
 *
 * One rule for "posted", written once here and used by every page, mail
 * and statistic (the week view's posted/missing, participation, a person's
 * weeks and streak, reminders, digests): a person posted in week W when
 * they have an update of W, weekly or all-hands (the all-hands counts as
 * its author's update), that is queued, processing or ready. A failed or
 * unfinished upload does not count.
 *
 * One rule for "counts in week W": an active person who joined before W
 * ended (or posted in W anyway). Nobody is "missing" from a week before
 * they joined.
 */
#ifndef HUBCAST_DB_HABIT_H
#define HUBCAST_DB_HABIT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define DB_HABIT_NAME 256   /* names, teams, addresses (the API takes up to 254 bytes) */
#define DB_HABIT_ZONE 64    /* an IANA time zone name */

/* Participation of one team in one week. */
struct db_habit_team {
    char    team[DB_HABIT_NAME];   /* "" for people without a team */
    int64_t posted;                /* members who posted in the week */
    int64_t active;                /* members who count: active, joined before week_end
                                    * (or posted in the week anyway) */
};

/*
 * Per team, for ISO week `week` ending at week_end (the next Monday 00:00
 * on the reader's clock), ordered by team name, case-insensitively.
 * Deactivated people do not count. DB_OK with *out (caller frees; NULL when
 * *n is 0) or a negative db_rc.
 */
int db_habit_week_teams(struct catalog *c, const char *week, int64_t week_end,
                        struct db_habit_team **out, size_t *n);
/* The same, summed over teams. DB_OK with both set, or a negative db_rc. */
int db_habit_week_counts(struct catalog *c, const char *week, int64_t week_end,
                         int64_t *posted, int64_t *active);

/* A person in the week view. */
struct db_week_person {
    int64_t id;
    char    name[256];
    char    title[256];
    char    team[256];
};
/*
 * Active people who count in week `week` ending at week_end (see the top)
 * and have (posted != 0) or have not (posted == 0) posted in it, by name.
 * DB_OK with *out (caller frees; NULL when *n is 0) or a negative db_rc.
 */
int db_habit_week_people(struct catalog *c, const char *week, int64_t week_end, int posted,
                         struct db_week_person **out, size_t *n);

/* When the company began: the first person's created_at. DB_OK with *t,
 * DB_NOTFOUND when there is nobody yet, or a negative db_rc. */
int db_habit_company_start(struct catalog *c, int64_t *t);

/* The time zone of person uid: DB_OK with tz filled, DB_NOTFOUND, or a
 * negative db_rc. */
int db_habit_person_zone(struct catalog *c, int64_t uid, char *tz, size_t tzsz);

/* One update of a person, with its week. */
struct db_habit_post {
    int64_t update_id;
    char    week[16];              /* "2026-W43" */
};
/* The updates person uid posted (see the top), newest week first (by id
 * within a week). DB_OK with *out (caller frees; NULL when *n is 0) or a negative db_rc. */
int db_habit_person_posts(struct catalog *c, int64_t uid, struct db_habit_post **out, size_t *n);

/* Has uid posted in week (see the top), counting only updates created at
 * or before `by` when by >= 0? DB_OK with *posted 0 or 1, or a negative db_rc. */
int db_habit_has_posted(struct catalog *c, int64_t uid, const char *week, int64_t by, int *posted);

/* Who has posted in week (see the top), counting only updates created at
 * or before `by` when by >= 0: the ids of the authors, ascending, each
 * once; the set db_habit_has_posted answers 1 for, in one statement.
 * DB_OK with *ids (caller frees; NULL when *n is 0) or a negative db_rc. */
int db_habit_posted_set(struct catalog *c, const char *week, int64_t by, int64_t **ids, size_t *n);

/* Someone reminders and digests may be for. */
struct db_habit_member {
    int64_t id;
    char    email[DB_HABIT_NAME];
    char    name[DB_HABIT_NAME];
    char    time_zone[DB_HABIT_ZONE];
    char    notify_updates[12];    /* "immediate", "digest" or "off" */
    int     notify_reminders;      /* wants the weekly reminder */
    int64_t created_at;            /* joined (no reminder falls due before) */
};
/* Every active person who has not unsubscribed from all mail, by id.
 * DB_OK with *out (caller frees; NULL when *n is 0) or a negative db_rc. */
int db_habit_members(struct catalog *c, struct db_habit_member **out, size_t *n);

#endif
