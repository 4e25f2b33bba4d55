/*
 * test_db_habit.c - the habit statistics' data layer against a real
 * SQLite file: participation per week and team, a person's zone and weeks
 * with updates, whether someone posted, and who reminders and digests are
 * for; for each, found, not found, a locked catalog (reads go on) and a
 * failing one (an error, never an empty answer).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db_habit.h"
#include "db_fixture.h"
#include "unit.h"
#include "util.h"

#define T0   1790000000    /* in ISO week 2026-W37 */
#define WEEK 604800

UNIT_TEST(week_teams_count_posters_and_members_per_team)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "Product", "UTC", "digest", T0 - 9 * WEEK);
    int64_t bob = fx_user(c, "b@example.com", "Bob", "product", "UTC", "digest", T0 - 9 * WEEK);
    int64_t cy = fx_user(c, "c@example.com", "Cy", "Sales", "UTC", "digest", T0 - 9 * WEEK);
    int64_t dee = fx_user(c, "d@example.com", "Dee", "Sales", "UTC", "digest", T0 - 9 * WEEK);
    int64_t late = fx_user(c, "l@example.com", "Late", "Sales", "UTC", "digest", T0 + WEEK);
    int64_t gone = fx_user(c, "g@example.com", "Gone", "Sales", "UTC", "digest", T0 - 9 * WEEK);
    struct db_habit_team *t;
    int64_t posted = -1, active = -1;
    size_t n;

    (void)bob;
    fx_update(c, ann, "weekly", "2026-W37", "", "ready", T0, T0);
    fx_update(c, cy, "weekly", "2026-W37", "", "queued", T0, 0);           /* queued counts */
    fx_update(c, dee, "weekly", "2026-W37", "", "failed", T0, 0);          /* failed does not */
    fx_update(c, gone, "weekly", "2026-W37", "", "ready", T0, T0);
    cat_exec(c, "UPDATE users SET deactivated = 1 WHERE id = ?", "I", gone);
    (void)late;
    CHECK_INT(db_habit_week_teams(c, "2026-W37", T0 + 3 * 86400, &t, &n), DB_OK);
    /* "Product" and "product" are two teams (GROUP BY is exact), ordered
     * case-insensitively; Late joined after the week and did not post. */
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_INT(t[0].posted + t[1].posted, 1);
        CHECK_INT(t[0].active + t[1].active, 2);
        CHECK_STR(t[2].team, "Sales");
        CHECK_INT(t[2].posted, 1);
        CHECK_INT(t[2].active, 2);
    }
    free(t);
    CHECK_INT(db_habit_week_counts(c, "2026-W37", T0 + 3 * 86400, &posted, &active), DB_OK);
    CHECK_INT(posted, 2);
    CHECK_INT(active, 4);
    /* A week nobody posted in. */
    CHECK_INT(db_habit_week_counts(c, "2026-W30", T0 - 6 * WEEK, &posted, &active), DB_OK);
    CHECK_INT(posted, 0);
    CHECK_INT(active, 4);
    fx_close(c);
}

UNIT_TEST(week_numbers_on_a_busy_or_failing_catalog)
{
    struct catalog *c = fx_open();
    struct db_habit_team *t;
    int64_t posted, active;
    size_t n;

    fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0 - WEEK);
    fx_busy_on(c);
    CHECK_INT(db_habit_week_counts(c, "2026-W37", T0, &posted, &active), DB_OK);   /* reads go on */
    CHECK_INT(active, 1);
    fx_busy_off();
    fx_fault_on();
    CHECK_INT(db_habit_week_teams(c, "2026-W37", T0, &t, &n), DB_ERROR);
    CHECK(t == NULL && n == 0);
    CHECK_INT(db_habit_week_counts(c, "2026-W37", T0, &posted, &active), DB_ERROR);
    CHECK_INT(posted, 0);
    CHECK_INT(active, 0);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(person_zone_found_not_found_and_failing)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "America/New_York", "digest", T0);
    char tz[64] = "";

    CHECK_INT(db_habit_person_zone(c, ann, tz, sizeof(tz)), DB_OK);
    CHECK_STR(tz, "America/New_York");
    CHECK_INT(db_habit_person_zone(c, ann + 1, tz, sizeof(tz)), DB_NOTFOUND);
    fx_fault_on();
    CHECK_INT(db_habit_person_zone(c, ann, tz, sizeof(tz)), DB_ERROR);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(person_posts_follow_the_posted_rule_newest_week_first)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t a = fx_update(c, ann, "weekly", "2026-W36", "", "ready", T0, T0);
    int64_t b = fx_update(c, ann, "allhands", "2026-W37", "", "processing", T0, 0);   /* all-hands count */
    int64_t d = fx_update(c, ann, "weekly", "2026-W37", "", "ready", T0, T0);
    int64_t q = fx_update(c, ann, "weekly", "2026-W35", "", "queued", T0, 0);         /* queued counts */
    struct db_habit_post *p;
    size_t n;

    fx_update(c, ann, "weekly", "2026-W35", "", "failed", T0, 0);
    CHECK_INT(db_habit_person_posts(c, ann, &p, &n), DB_OK);
    CHECK_INT(n, 4);
    if (n == 4) {
        CHECK_INT(p[0].update_id, b);
        CHECK_STR(p[0].week, "2026-W37");
        CHECK_INT(p[1].update_id, d);
        CHECK_INT(p[2].update_id, a);
        CHECK_INT(p[3].update_id, q);
    }
    free(p);
    CHECK_INT(db_habit_person_posts(c, ann + 1, &p, &n), DB_OK);   /* nobody: no weeks */
    CHECK_INT(n, 0);
    fx_fault_on();
    CHECK_INT(db_habit_person_posts(c, ann, &p, &n), DB_ERROR);
    CHECK(p == NULL && n == 0);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(has_posted_counts_queued_processing_ready_and_respects_by)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t bob = fx_user(c, "b@example.com", "Bob", "", "UTC", "digest", T0);
    int posted = -1;

    fx_update(c, ann, "weekly", "2026-W37", "", "queued", T0 + 100, 0);
    fx_update(c, bob, "weekly", "2026-W37", "", "failed", T0, 0);
    CHECK_INT(db_habit_has_posted(c, ann, "2026-W37", -1, &posted), DB_OK);
    CHECK_INT(posted, 1);
    CHECK_INT(db_habit_has_posted(c, ann, "2026-W37", T0 + 100, &posted), DB_OK);
    CHECK_INT(posted, 1);
    CHECK_INT(db_habit_has_posted(c, ann, "2026-W37", T0 + 99, &posted), DB_OK);   /* not yet, then */
    CHECK_INT(posted, 0);
    CHECK_INT(db_habit_has_posted(c, ann, "2026-W36", -1, &posted), DB_OK);
    CHECK_INT(posted, 0);
    CHECK_INT(db_habit_has_posted(c, bob, "2026-W37", -1, &posted), DB_OK);       /* failed upload */
    CHECK_INT(posted, 0);
    CHECK_INT(db_habit_has_posted(c, 999, "2026-W37", -1, &posted), DB_OK);
    CHECK_INT(posted, 0);
    fx_busy_on(c);
    CHECK_INT(db_habit_has_posted(c, ann, "2026-W37", -1, &posted), DB_OK);
    CHECK_INT(posted, 1);
    fx_busy_off();
    fx_fault_on();
    posted = -1;
    CHECK_INT(db_habit_has_posted(c, ann, "2026-W37", -1, &posted), DB_ERROR);
    CHECK_INT(posted, 0);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(posted_set_is_who_has_posted_for_everybody_at_once)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t bob = fx_user(c, "b@example.com", "Bob", "", "UTC", "digest", T0);
    int64_t cy = fx_user(c, "c@example.com", "Cy", "", "UTC", "digest", T0);
    int64_t dee = fx_user(c, "d@example.com", "Dee", "", "UTC", "digest", T0);
    int64_t who[4] = { ann, bob, cy, dee }, by[] = { -1, T0 + 100, T0 + 99 }, *ids;
    const char *weeks[] = { "2026-W37", "2026-W36" };
    size_t n;

    fx_update(c, ann, "weekly", "2026-W37", "", "queued", T0 + 100, 0);
    fx_update(c, ann, "weekly", "2026-W37", "", "ready", T0 + 50, 0);      /* twice: once in the set */
    fx_update(c, bob, "weekly", "2026-W37", "", "failed", T0, 0);
    fx_update(c, cy, "allhands", "2026-W37", "", "processing", T0 + 200, 0);
    fx_update(c, dee, "weekly", "2026-W36", "", "ready", T0, 0);
    /* The same answers as db_habit_has_posted, person by person. */
    for (size_t w = 0; w < HC_ARRAY_LEN(weeks); w++) {
        for (size_t b = 0; b < HC_ARRAY_LEN(by); b++) {
            size_t k = 0;
            CHECK_INT(db_habit_posted_set(c, weeks[w], by[b], &ids, &n), DB_OK);
            for (size_t i = 0; i < HC_ARRAY_LEN(who); i++) {
                int posted = -1;
                CHECK_INT(db_habit_has_posted(c, who[i], weeks[w], by[b], &posted), DB_OK);
                if (posted) {
                    CHECK(k < n && ids[k] == who[i]);
                    k++;
                }
            }
            CHECK_INT(n, k);
            free(ids);
        }
    }
    CHECK_INT(db_habit_posted_set(c, "2026-W37", -1, &ids, &n), DB_OK);
    CHECK(n == 2 && ids[0] == ann && ids[1] == cy);
    free(ids);
    CHECK_INT(db_habit_posted_set(c, "2026-W01", -1, &ids, &n), DB_OK);
    CHECK(ids == NULL && n == 0);
    fx_fault_on();
    CHECK_INT(db_habit_posted_set(c, "2026-W37", -1, &ids, &n), DB_ERROR);
    CHECK(ids == NULL && n == 0);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(members_are_the_active_and_subscribed_by_id)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "Asia/Tokyo", "off", T0);
    int64_t bob = fx_user(c, "b@example.com", "Bob", "", "UTC", "digest", T0);
    int64_t cy = fx_user(c, "c@example.com", "Cy", "", "UTC", "digest", T0);
    int64_t dee = fx_user(c, "d@example.com", "Dee", "", "UTC", "immediate", T0);
    struct db_habit_member *m;
    size_t n;

    cat_exec(c, "UPDATE users SET deactivated = 1 WHERE id = ?", "I", bob);
    cat_exec(c, "UPDATE users SET unsubscribed = 1 WHERE id = ?", "I", cy);
    cat_exec(c, "UPDATE users SET notify_reminders = 0 WHERE id = ?", "I", dee);
    CHECK_INT(db_habit_members(c, &m, &n), DB_OK);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_INT(m[0].id, ann);
        CHECK_STR(m[0].time_zone, "Asia/Tokyo");
        CHECK_STR(m[0].notify_updates, "off");
        CHECK_INT(m[0].notify_reminders, 1);
        CHECK_INT(m[1].id, dee);
        CHECK_INT(m[1].notify_reminders, 0);
    }
    free(m);
    fx_fault_on();
    CHECK_INT(db_habit_members(c, &m, &n), DB_ERROR);
    CHECK(m == NULL && n == 0);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(members_of_an_empty_catalog_is_an_empty_list_not_an_error)
{
    struct catalog *c = fx_open();
    struct db_habit_member *m;
    size_t n = 9;

    CHECK_INT(db_habit_members(c, &m, &n), DB_OK);
    CHECK_INT(n, 0);
    free(m);
    fx_close(c);
}

UNIT_TEST(week_people_leave_out_who_joined_later)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0 - WEEK);
    int64_t bob = fx_user(c, "b@example.com", "Bob", "", "UTC", "digest", T0 - WEEK);
    int64_t late = fx_user(c, "l@example.com", "Late", "", "UTC", "digest", T0 + WEEK);
    struct db_week_person *p;
    size_t n;

    fx_update(c, ann, "allhands", "2026-W37", "", "queued", T0, 0);
    CHECK_INT(db_habit_week_people(c, "2026-W37", T0 + 3 * 86400, 1, &p, &n), DB_OK);
    CHECK_INT(n, 1);
    if (n == 1)
        CHECK_INT(p[0].id, ann);
    free(p);
    CHECK_INT(db_habit_week_people(c, "2026-W37", T0 + 3 * 86400, 0, &p, &n), DB_OK);
    CHECK_INT(n, 1);   /* Bob; not Late, who joined after the week */
    if (n == 1)
        CHECK_INT(p[0].id, bob);
    free(p);
    CHECK_INT(db_habit_week_people(c, "2026-W37", INT64_MAX, 0, &p, &n), DB_OK);
    CHECK_INT(n, 2);
    CHECK(n == 2 && p[1].id == late);
    free(p);
    fx_busy_on(c);
    CHECK_INT(db_habit_week_people(c, "2026-W37", T0, 0, &p, &n), DB_OK);   /* reads go on */
    free(p);
    fx_busy_off();
    fx_fault_on();
    CHECK_INT(db_habit_week_people(c, "2026-W37", T0, 0, &p, &n), DB_ERROR);
    CHECK(p == NULL && n == 0);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(company_start_is_the_first_person)
{
    struct catalog *c = fx_open();
    int64_t t = 7;

    CHECK_INT(db_habit_company_start(c, &t), DB_NOTFOUND);
    fx_user(c, "b@example.com", "Bob", "", "UTC", "digest", T0);
    fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0 - WEEK);
    CHECK_INT(db_habit_company_start(c, &t), DB_OK);
    CHECK_INT(t, T0 - WEEK);
    fx_fault_on();
    CHECK_INT(db_habit_company_start(c, &t), DB_ERROR);
    fx_fault_off();
    fx_close(c);
}

int main(void)
{
    unit_run(week_teams_count_posters_and_members_per_team, "week_teams_count_posters_and_members_per_team");
    unit_run(week_numbers_on_a_busy_or_failing_catalog, "week_numbers_on_a_busy_or_failing_catalog");
    unit_run(person_zone_found_not_found_and_failing, "person_zone_found_not_found_and_failing");
    unit_run(person_posts_follow_the_posted_rule_newest_week_first,
             "person_posts_follow_the_posted_rule_newest_week_first");
    unit_run(week_people_leave_out_who_joined_later, "week_people_leave_out_who_joined_later");
    unit_run(company_start_is_the_first_person, "company_start_is_the_first_person");
    unit_run(has_posted_counts_queued_processing_ready_and_respects_by,
             "has_posted_counts_queued_processing_ready_and_respects_by");
    unit_run(posted_set_is_who_has_posted_for_everybody_at_once, "posted_set_is_who_has_posted_for_everybody_at_once");
    unit_run(members_are_the_active_and_subscribed_by_id, "members_are_the_active_and_subscribed_by_id");
    unit_run(members_of_an_empty_catalog_is_an_empty_list_not_an_error,
             "members_of_an_empty_catalog_is_an_empty_list_not_an_error");
    return unit_done();
}
