/*
 * db_habit.c - every SQL statement about participation and streaks, and
 * the list of people reminders and digests are for (see db_habit.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_habit.h"
#include "util.h"

/* The one rule for "posted" (see db_habit.h): the states of an update that
 * count, whatever its kind. */
#define POSTED_STATUS "p.status IN ('queued', 'processing', 'ready')"
/* Person u posted in week ?1. */
#define POSTED_IN_WEEK "EXISTS (SELECT 1 FROM updates p WHERE p.author_id = u.id AND p.iso_week = ?1 " \
                       "AND " POSTED_STATUS ")"
/* The same as 1 or 0 (PostgreSQL neither sums nor compares booleans
 * with integers). */
#define POSTED_IN_WEEK_01 "(CASE WHEN " POSTED_IN_WEEK " THEN 1 ELSE 0 END)"
/* Person u counts in week ?1 ending at ?2. */
#define COUNTS_IN_WEEK "u.deactivated = 0 AND (u.created_at < ?2 OR " POSTED_IN_WEEK ")"

static void fill_team(struct cat_stmt *st, void *p)
{
    struct db_habit_team *t = p;

    cat_col_copy(st, 0, t->team, sizeof(t->team));
    t->active = cat_col_int(st, 1);
    t->posted = cat_col_int(st, 2);
}

int db_habit_week_teams(struct catalog *c, const char *week, int64_t week_end,
                        struct db_habit_team **out, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT u.team, COUNT(*), SUM(" POSTED_IN_WEEK_01 ") FROM users u WHERE " COUNTS_IN_WEEK " "
        "GROUP BY u.team ORDER BY " CAT_ORDER_NOCASE("u.team") ", u.team", "sI", week, week_end),
        sizeof(**out), fill_team, (void **)out, n);
}

int db_habit_week_counts(struct catalog *c, const char *week, int64_t week_end,
                         int64_t *posted, int64_t *active)
{
    struct db_habit_team *t;
    size_t n;
    int rc = db_habit_week_teams(c, week, week_end, &t, &n);

    *posted = *active = 0;
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        *posted += t[i].posted;
        *active += t[i].active;
    }
    free(t);
    return DB_OK;
}

static void fill_person(struct cat_stmt *st, void *p)
{
    struct db_week_person *x = p;

    x->id = cat_col_int(st, 0);
    cat_col_copy(st, 1, x->name, sizeof(x->name));
    cat_col_copy(st, 2, x->title, sizeof(x->title));
    cat_col_copy(st, 3, x->team, sizeof(x->team));
}

int db_habit_week_people(struct catalog *c, const char *week, int64_t week_end, int posted,
                         struct db_week_person **out, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT u.id, u.name, u.title, u.team FROM users u WHERE " COUNTS_IN_WEEK " "
        "AND " POSTED_IN_WEEK_01 " = ?3 ORDER BY " CAT_ORDER_NOCASE("u.name") ", u.id",
        "sIi", week, week_end, posted ? 1 : 0), sizeof(**out), fill_person, (void **)out, n);
}

int db_habit_company_start(struct catalog *c, int64_t *t)
{
    *t = 0;
    return cat_get_int(c, t, "SELECT created_at FROM users ORDER BY created_at LIMIT 1", "");
}

int db_habit_person_zone(struct catalog *c, int64_t uid, char *tz, size_t tzsz)
{
    char *v = NULL;
    int rc = cat_get_text(c, &v, "SELECT time_zone FROM users WHERE id = ?", "I", uid);

    if (rc == DB_OK)
        hc_strlcpy(tz, v, tzsz);
    free(v);
    return rc;
}

static void fill_post(struct cat_stmt *st, void *p)
{
    struct db_habit_post *x = p;

    x->update_id = cat_col_int(st, 0);
    cat_col_copy(st, 1, x->week, sizeof(x->week));
}

int db_habit_person_posts(struct catalog *c, int64_t uid, struct db_habit_post **out, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT p.id, p.iso_week FROM updates p WHERE p.author_id = ? AND " POSTED_STATUS " "
        "ORDER BY p.iso_week DESC, p.id", "I", uid), sizeof(**out), fill_post, (void **)out, n);
}

int db_habit_has_posted(struct catalog *c, int64_t uid, const char *week, int64_t by, int *posted)
{
    int64_t k = 0;
    int rc = cat_get_int(c, &k,
        "SELECT EXISTS (SELECT 1 FROM updates p WHERE p.author_id = ?2 AND p.iso_week = ?1 "
        "AND " POSTED_STATUS " AND (?3 < 0 OR p.created_at <= ?3))",
        "sII", week, uid, by);

    *posted = 0;
    if (rc < 0)
        return rc;
    *posted = rc == DB_OK && k != 0;
    return DB_OK;
}

static void fill_id(struct cat_stmt *st, void *p)
{
    *(int64_t *)p = cat_col_int(st, 0);
}

int db_habit_posted_set(struct catalog *c, const char *week, int64_t by, int64_t **ids, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT DISTINCT p.author_id FROM updates p WHERE p.iso_week = ?1 "
        "AND " POSTED_STATUS " AND (?2 < 0 OR p.created_at <= ?2) ORDER BY p.author_id",
        "sI", week, by), sizeof(**ids), fill_id, (void **)ids, n);
}

static void fill_member(struct cat_stmt *st, void *p)
{
    struct db_habit_member *m = p;

    m->id = cat_col_int(st, 0);
    cat_col_copy(st, 1, m->email, sizeof(m->email));
    cat_col_copy(st, 2, m->name, sizeof(m->name));
    cat_col_copy(st, 3, m->time_zone, sizeof(m->time_zone));
    cat_col_copy(st, 4, m->notify_updates, sizeof(m->notify_updates));
    m->notify_reminders = (int)cat_col_int(st, 5);
    m->created_at = cat_col_int(st, 6);
}

int db_habit_members(struct catalog *c, struct db_habit_member **out, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT id, email, name, time_zone, notify_updates, notify_reminders, created_at FROM users "
        "WHERE deactivated = 0 AND unsubscribed = 0 ORDER BY id", ""),
        sizeof(**out), fill_member, (void **)out, n);
}
