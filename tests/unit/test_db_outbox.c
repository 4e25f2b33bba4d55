/*
 * test_db_outbox.c - the mail outbox's data layer against a real SQLite
 * file: queueing (and its dedupe key), the claim / sent / failed / retry /
 * unclaim state machine, the admin's list, and the reads messages are made
 * of; for each, found, not found, a refused write, a locked catalog and a
 * failing one.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_outbox.h"
#include "db_fixture.h"
#include "unit.h"

#define T0 1790000000   /* a Thursday in 2026 */

static int64_t queue(struct catalog *c, const char *kind, int64_t to, const char *key, int64_t now)
{
    struct db_outbox_new m = { .kind = kind, .to_user = to, .to_addr = "a@example.com", .to_name = "A",
                               .subject = "Hello", .body_text = "text {{base}}", .body_html = "<p>html</p>",
                               .dedupe_key = key, .unsubscribe = 1 };
    int64_t id = 0;

    return db_outbox_enqueue(c, &m, now, &id) == DB_OK ? id : -1;
}

UNIT_TEST(enqueue_writes_a_message_that_can_be_claimed_with_its_fields)
{
    struct catalog *c = fx_open();
    int64_t uid = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t id = queue(c, "reminder", uid, "reminder:1:2026-W40:1", T0);
    struct db_outbox_msg m;

    CHECK(id > 0);
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);
    CHECK_INT(m.id, id);
    CHECK_STR(m.kind, "reminder");
    CHECK_INT(m.to_user, uid);
    CHECK_STR(m.to_addr, "a@example.com");
    CHECK(!strcmp(m.subject, "Hello"));
    CHECK_STR(m.body_text, "text {{base}}");
    CHECK_STR(m.body_html, "<p>html</p>");
    CHECK_STR(m.dedupe_key, "reminder:1:2026-W40:1");
    CHECK_INT(m.unsubscribe, 1);
    CHECK_INT(m.attempts, 1);
    CHECK_INT(m.created_at, T0);
    db_outbox_msg_free(&m);
    fx_close(c);
}

UNIT_TEST(enqueue_with_a_dedupe_key_already_used_is_a_constraint_and_writes_nothing)
{
    struct catalog *c = fx_open();
    struct db_outbox_new m = { .kind = "digest", .to_addr = "a@example.com", .subject = "S",
                               .body_text = "t", .dedupe_key = "digest:1:2026-W40" };
    struct db_outbox_counts n;

    CHECK_INT(db_outbox_enqueue(c, &m, T0, NULL), DB_OK);
    CHECK_INT(db_outbox_enqueue(c, &m, T0 + 5, NULL), DB_CONSTRAINT);
    CHECK_INT(db_outbox_count(c, &n), DB_OK);
    CHECK_INT(n.pending, 1);
    /* No key: no limit. */
    m.dedupe_key = NULL;
    CHECK_INT(db_outbox_enqueue(c, &m, T0, NULL), DB_OK);
    CHECK_INT(db_outbox_enqueue(c, &m, T0, NULL), DB_OK);
    CHECK_INT(db_outbox_count(c, &n), DB_OK);
    CHECK_INT(n.pending, 3);
    fx_close(c);
}

UNIT_TEST(enqueue_busy_and_failing_catalogs_answer_errors)
{
    struct catalog *c = fx_open();
    struct db_outbox_new m = { .kind = "test", .to_addr = "a@example.com", .subject = "S", .body_text = "t" };

    fx_busy_on(c);
    CHECK_INT(db_outbox_enqueue(c, &m, T0, NULL), DB_BUSY);
    fx_busy_off();
    fx_fault_on();
    CHECK_INT(db_outbox_enqueue(c, &m, T0, NULL), DB_ERROR);
    fx_fault_off();
    CHECK_INT(db_outbox_enqueue(c, &m, T0, NULL), DB_OK);
    fx_close(c);
}

UNIT_TEST(claim_takes_due_messages_oldest_first_and_each_once)
{
    struct catalog *c = fx_open();
    int64_t a = queue(c, "test", 0, NULL, T0 + 10), b = queue(c, "test", 0, NULL, T0);
    struct db_outbox_msg m;

    CHECK_INT(db_outbox_claim(c, T0 - 1, &m), DB_NOTFOUND);   /* nothing due yet */
    CHECK_INT(db_outbox_claim(c, T0 + 10, &m), DB_OK);
    CHECK_INT(m.id, b);
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_claim(c, T0 + 10, &m), DB_OK);
    CHECK_INT(m.id, a);
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_claim(c, T0 + 10, &m), DB_NOTFOUND);  /* both claimed */
    fx_close(c);
}

UNIT_TEST(claim_on_a_busy_or_failing_catalog_is_an_error_not_an_empty_outbox)
{
    struct catalog *c = fx_open();
    struct db_outbox_msg m;
    struct db_outbox_entry *e;
    size_t n;

    queue(c, "test", 0, NULL, T0);
    fx_busy_on(c);
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_BUSY);
    fx_busy_off();
    fx_fault_on();
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_ERROR);
    fx_fault_off();
    /* Neither claimed it. */
    CHECK_INT(db_outbox_unsent(c, 10, &e, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_INT(e[0].claimed_at, 0);
    CHECK_INT(e[0].attempts, 0);
    free(e);
    fx_close(c);
}

UNIT_TEST(sent_failed_retry_and_unclaim_move_only_a_claimed_message)
{
    struct catalog *c = fx_open();
    int64_t id = queue(c, "test", 0, NULL, T0);
    struct db_outbox_msg m;
    struct db_outbox_entry *e;
    struct db_outbox_counts cnt;
    size_t n;

    /* Not claimed: every move is refused; no such row: not found. */
    CHECK_INT(db_outbox_sent(c, id, T0), DB_INVALID);
    CHECK_INT(db_outbox_failed(c, id, "x"), DB_INVALID);
    CHECK_INT(db_outbox_retry(c, id, T0 + 30, "x"), DB_INVALID);
    CHECK_INT(db_outbox_unclaim(c, id), DB_INVALID);
    CHECK_INT(db_outbox_sent(c, id + 100, T0), DB_NOTFOUND);
    CHECK_INT(db_outbox_failed(c, id + 100, "x"), DB_NOTFOUND);
    CHECK_INT(db_outbox_retry(c, id + 100, T0, "x"), DB_NOTFOUND);
    CHECK_INT(db_outbox_unclaim(c, id + 100), DB_NOTFOUND);

    /* Claimed, then retried: due again at next_try, with the error kept. */
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_retry(c, id, T0 + 30, "451 try later"), DB_OK);
    CHECK_INT(db_outbox_claim(c, T0 + 29, &m), DB_NOTFOUND);
    CHECK_INT(db_outbox_unsent(c, 10, &e, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK(!strcmp(e[0].last_error, "451 try later"));
    CHECK_INT(e[0].next_try, T0 + 30);
    CHECK_INT(e[0].attempts, 1);
    free(e);

    /* Claimed, then stopped before sending: not an attempt. */
    CHECK_INT(db_outbox_claim(c, T0 + 30, &m), DB_OK);
    CHECK_INT(m.attempts, 2);
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_unclaim(c, id), DB_OK);

    /* Claimed, then sent: final. */
    CHECK_INT(db_outbox_claim(c, T0 + 30, &m), DB_OK);
    CHECK_INT(m.attempts, 2);
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_sent(c, id, T0 + 31), DB_OK);
    CHECK_INT(db_outbox_sent(c, id, T0 + 32), DB_INVALID);
    CHECK_INT(db_outbox_failed(c, id, "late"), DB_INVALID);
    CHECK_INT(db_outbox_count(c, &cnt), DB_OK);
    CHECK_INT(cnt.sent, 1);
    CHECK_INT(cnt.pending, 0);
    fx_close(c);
}

UNIT_TEST(failed_is_final_and_listed_for_the_admin)
{
    struct catalog *c = fx_open();
    int64_t id = queue(c, "test", 0, NULL, T0);
    struct db_outbox_msg m;
    struct db_outbox_entry *e;
    size_t n;

    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_failed(c, id, "550 no such user"), DB_OK);
    CHECK_INT(db_outbox_retry(c, id, T0, "x"), DB_INVALID);
    CHECK_INT(db_outbox_claim(c, T0 + 3600, &m), DB_NOTFOUND);
    CHECK_INT(db_outbox_unsent(c, 10, &e, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_STR(e[0].state, "failed");
    CHECK(!strcmp(e[0].last_error, "550 no such user"));
    free(e);
    fx_close(c);
}

UNIT_TEST(moves_on_a_busy_or_failing_catalog_answer_errors_and_change_nothing)
{
    struct catalog *c = fx_open();
    int64_t id = queue(c, "test", 0, NULL, T0);
    struct db_outbox_msg m;
    struct db_outbox_counts cnt;
    int k;

    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);
    db_outbox_msg_free(&m);
    fx_busy_on(c);
    CHECK_INT(db_outbox_sent(c, id, T0), DB_BUSY);
    CHECK_INT(db_outbox_failed(c, id, "x"), DB_BUSY);
    CHECK_INT(db_outbox_retry(c, id, T0, "x"), DB_BUSY);
    CHECK_INT(db_outbox_unclaim(c, id), DB_BUSY);
    CHECK_INT(db_outbox_release_claims(c, &k), DB_BUSY);
    fx_busy_off();
    fx_fault_on();
    CHECK_INT(db_outbox_sent(c, id, T0), DB_ERROR);
    CHECK_INT(db_outbox_failed(c, id, "x"), DB_ERROR);
    CHECK_INT(db_outbox_retry(c, id, T0, "x"), DB_ERROR);
    CHECK_INT(db_outbox_unclaim(c, id), DB_ERROR);
    CHECK_INT(db_outbox_release_claims(c, &k), DB_ERROR);
    fx_fault_off();
    CHECK_INT(db_outbox_count(c, &cnt), DB_OK);
    CHECK_INT(cnt.pending, 1);
    CHECK_INT(db_outbox_sent(c, id, T0), DB_OK);   /* still claimed: the move works now */
    fx_close(c);
}

UNIT_TEST(release_claims_frees_what_a_stopped_process_was_sending)
{
    struct catalog *c = fx_open();
    struct db_outbox_msg m;
    int k = -1;

    queue(c, "test", 0, NULL, T0);
    queue(c, "test", 0, NULL, T0);
    CHECK_INT(db_outbox_release_claims(c, &k), DB_OK);
    CHECK_INT(k, 0);
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_release_claims(c, &k), DB_OK);
    CHECK_INT(k, 1);
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);
    db_outbox_msg_free(&m);
    fx_close(c);
}

UNIT_TEST(queued_at_and_count_since_tell_found_from_not_found_from_error)
{
    struct catalog *c = fx_open();
    int64_t uid = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0), t = 0, n = -1;

    queue(c, "reset", uid, "k1", T0);
    queue(c, "reset", uid, NULL, T0 + 100);
    CHECK_INT(db_outbox_queued_at(c, "k1", &t), DB_OK);
    CHECK_INT(t, T0);
    CHECK_INT(db_outbox_queued_at(c, "k2", &t), DB_NOTFOUND);
    CHECK_INT(db_outbox_count_since(c, "reset", uid, T0 - 1, &n), DB_OK);
    CHECK_INT(n, 2);
    CHECK_INT(db_outbox_count_since(c, "reset", uid, T0, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_INT(db_outbox_count_since(c, "invite", uid, 0, &n), DB_OK);
    CHECK_INT(n, 0);
    /* Reads go on while another connection writes (WAL). */
    fx_busy_on(c);
    CHECK_INT(db_outbox_queued_at(c, "k1", &t), DB_OK);
    fx_busy_off();
    fx_fault_on();
    CHECK_INT(db_outbox_queued_at(c, "k1", &t), DB_ERROR);
    CHECK_INT(db_outbox_count_since(c, "reset", uid, 0, &n), DB_ERROR);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(queued_many_looks_up_every_key_in_one_statement)
{
    struct catalog *c = fx_open();
    int64_t uid = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0), t[5];
    const char *keys[5] = { "reminder:1:2026-W40:1", "nope", "digest:1:\"q\"\\", "reminder:1:2026-W40:1", "k\n2" };
    int found[5];

    queue(c, "reminder", uid, "reminder:1:2026-W40:1", T0);
    queue(c, "digest", uid, "digest:1:\"q\"\\", T0 + 7);
    queue(c, "reset", uid, "k\n2", T0 + 9);
    queue(c, "reset", uid, NULL, T0 + 100);
    CHECK_INT(db_outbox_queued_many(c, keys, 5, t, found), DB_OK);
    CHECK(found[0] && t[0] == T0);
    CHECK(!found[1] && t[1] == 0);
    CHECK(found[2] && t[2] == T0 + 7);          /* quotes and backslashes stay themselves */
    CHECK(found[3] && t[3] == T0);              /* asked twice, answered twice */
    CHECK(found[4] && t[4] == T0 + 9);
    CHECK_INT(db_outbox_queued_many(c, keys, 0, t, found), DB_OK);
    fx_fault_on();
    CHECK_INT(db_outbox_queued_many(c, keys, 5, t, found), DB_ERROR);
    CHECK(!found[0] && !found[2]);             /* a failed read is not "queued" */
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(unsent_lists_newest_first_up_to_the_limit_and_count_by_state)
{
    struct catalog *c = fx_open();
    struct db_outbox_entry *e = NULL;
    struct db_outbox_counts cnt;
    struct db_outbox_msg m;
    size_t n;
    int64_t a = queue(c, "test", 0, NULL, T0), b = queue(c, "test", 0, NULL, T0), d;

    d = queue(c, "test", 0, NULL, T0);
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);   /* a */
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_sent(c, a, T0), DB_OK);
    CHECK_INT(db_outbox_claim(c, T0, &m), DB_OK);   /* b, left claimed */
    db_outbox_msg_free(&m);
    CHECK_INT(db_outbox_unsent(c, 500, &e, &n), DB_OK);
    CHECK_INT(n, 2);
    CHECK_INT(e[0].id, d);
    CHECK_INT(e[1].id, b);
    CHECK_INT(e[1].claimed_at, T0);
    CHECK_INT(e[0].claimed_at, 0);
    free(e);
    CHECK_INT(db_outbox_unsent(c, 1, &e, &n), DB_OK);
    CHECK_INT(n, 1);
    free(e);
    CHECK_INT(db_outbox_count(c, &cnt), DB_OK);
    CHECK_INT(cnt.sent, 1);
    CHECK_INT(cnt.pending, 2);
    CHECK_INT(cnt.failed, 0);
    fx_fault_on();
    CHECK_INT(db_outbox_unsent(c, 500, &e, &n), DB_ERROR);
    CHECK(e == NULL && n == 0);
    CHECK_INT(db_outbox_count(c, &cnt), DB_ERROR);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(people_found_not_found_deactivated_and_failing)
{
    struct catalog *c = fx_open();
    int64_t a = fx_user(c, "Ann@Example.com", "Ann", "", "Europe/Paris", "immediate", T0);
    int64_t b = fx_user(c, "bob@example.com", "Bob", "", "UTC", "digest", T0);
    struct db_outbox_person p;

    cat_exec(c, "UPDATE users SET deactivated = 1 WHERE id = ?", "I", b);
    CHECK_INT(db_outbox_person(c, a, &p), DB_OK);
    CHECK_STR(p.email, "Ann@Example.com");
    CHECK_STR(p.time_zone, "Europe/Paris");
    CHECK_STR(p.notify_updates, "immediate");
    CHECK_STR(p.role, "member");
    CHECK_INT(p.notify_reminders, 1);
    CHECK_INT(db_outbox_person(c, b, &p), DB_OK);
    CHECK_INT(p.deactivated, 1);
    CHECK_INT(db_outbox_person(c, 999, &p), DB_NOTFOUND);
    CHECK_INT(db_outbox_person_by_email(c, "ann@example.com", &p), DB_OK);
    CHECK_INT(p.id, a);
    CHECK_INT(db_outbox_person_by_email(c, "bob@example.com", &p), DB_NOTFOUND);  /* deactivated */
    CHECK_INT(db_outbox_person_by_email(c, "nobody@example.com", &p), DB_NOTFOUND);
    {
        /* Everybody scheduled mail may go to, in one statement: not Bob. */
        struct db_outbox_person *all;
        size_t n;
        CHECK_INT(db_outbox_members(c, &all, &n), DB_OK);
        CHECK(n == 1 && all[0].id == a && !strcmp(all[0].time_zone, "Europe/Paris"));
        free(all);
        cat_exec(c, "UPDATE users SET unsubscribed = 1 WHERE id = ?", "I", a);
        CHECK_INT(db_outbox_members(c, &all, &n), DB_OK);
        CHECK(all == NULL && n == 0);
        fx_fault_on();
        CHECK_INT(db_outbox_members(c, &all, &n), DB_ERROR);
        fx_fault_off();
    }
    fx_fault_on();
    CHECK_INT(db_outbox_person(c, a, &p), DB_ERROR);
    CHECK_INT(db_outbox_person_by_email(c, "ann@example.com", &p), DB_ERROR);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(unsubscribe_found_not_found_busy_and_failing)
{
    struct catalog *c = fx_open();
    int64_t a = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    struct db_outbox_person p;

    CHECK_INT(db_outbox_unsubscribe(c, a), DB_OK);
    CHECK_INT(db_outbox_person(c, a, &p), DB_OK);
    CHECK_INT(p.unsubscribed, 1);
    CHECK_INT(db_outbox_unsubscribe(c, a), DB_OK);       /* twice is fine */
    CHECK_INT(db_outbox_unsubscribe(c, 999), DB_NOTFOUND);
    fx_busy_on(c);
    CHECK_INT(db_outbox_unsubscribe(c, a), DB_BUSY);
    fx_busy_off();
    fx_fault_on();
    CHECK_INT(db_outbox_unsubscribe(c, a), DB_ERROR);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(update_notice_and_its_recipients)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "immediate", T0);
    int64_t bob = fx_user(c, "b@example.com", "Bob", "", "UTC", "immediate", T0);
    int64_t cat_ = fx_user(c, "c@example.com", "Cat", "", "UTC", "digest", T0);
    int64_t dan = fx_user(c, "d@example.com", "Dan", "", "UTC", "immediate", T0);
    int64_t up = fx_update(c, ann, "weekly", "2026-W40", "Roadmap", "ready", T0, T0);
    struct db_outbox_update u;
    struct db_outbox_person *r;
    size_t n;

    cat_exec(c, "UPDATE users SET unsubscribed = 1 WHERE id = ?", "I", dan);
    CHECK_INT(db_outbox_update_notice(c, up, &u), DB_OK);
    CHECK_STR(u.title, "Roadmap");
    CHECK_STR(u.author, "Ann");
    CHECK_STR(u.iso_week, "2026-W40");
    CHECK_INT(u.allhands, 0);
    CHECK_INT(u.author_id, ann);
    CHECK_INT(db_outbox_update_notice(c, up + 1, &u), DB_NOTFOUND);
    /* Weekly: those who chose immediate, not the author, not the unsubscribed. */
    CHECK_INT(db_outbox_update_recipients(c, ann, 0, &r, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_INT(r[0].id, bob);
    free(r);
    /* All-hands: everyone active and subscribed but the author. */
    CHECK_INT(db_outbox_update_recipients(c, ann, 1, &r, &n), DB_OK);
    CHECK_INT(n, 2);
    CHECK_INT(r[0].id, bob);
    CHECK_INT(r[1].id, cat_);
    free(r);
    fx_fault_on();
    CHECK_INT(db_outbox_update_notice(c, up, &u), DB_ERROR);
    CHECK_INT(db_outbox_update_recipients(c, ann, 1, &r, &n), DB_ERROR);
    CHECK(r == NULL && n == 0);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(comment_notice_found_not_found_and_failing)
{
    struct catalog *c = fx_open();
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t bob = fx_user(c, "b@example.com", "Bob", "", "UTC", "digest", T0);
    int64_t up = fx_update(c, ann, "weekly", "2026-W40", "", "ready", T0, T0);
    int64_t cm = cat_insert(c, "INSERT INTO comments(update_id, user_id, body, created_at) VALUES (?, ?, ?, ?)",
                            "IIsI", up, bob, "Nice <b>work</b>", (int64_t)T0);
    struct db_outbox_comment x;

    CHECK_INT(db_outbox_comment_notice(c, cm, &x), DB_OK);
    CHECK_INT(x.update_id, up);
    CHECK_INT(x.commenter_id, bob);
    CHECK_STR(x.commenter, "Bob");
    CHECK_STR(x.title, "");
    CHECK_STR(x.body, "Nice <b>work</b>");
    CHECK_INT(x.author.id, ann);
    CHECK_STR(x.author.email, "a@example.com");
    db_outbox_comment_free(&x);
    CHECK_INT(db_outbox_comment_notice(c, cm + 1, &x), DB_NOTFOUND);
    CHECK(x.body == NULL);
    fx_fault_on();
    CHECK_INT(db_outbox_comment_notice(c, cm, &x), DB_ERROR);
    fx_fault_off();
    fx_close(c);
}

UNIT_TEST(digest_contents_for_a_week_and_for_a_day)
{
    struct catalog *c = fx_open();
    int64_t zoe = fx_user(c, "z@example.com", "zoe", "", "UTC", "digest", T0);
    int64_t ann = fx_user(c, "a@example.com", "Ann", "", "UTC", "digest", T0);
    int64_t w1 = fx_update(c, zoe, "weekly", "2026-W40", "Z", "ready", T0, T0 + 10);
    int64_t w2 = fx_update(c, ann, "weekly", "2026-W40", "A", "ready", T0, T0 + 20);
    int64_t ah = fx_update(c, zoe, "allhands", "2026-W40", "All", "ready", T0, T0 + 30);
    struct db_outbox_digest_item *it;
    size_t n;

    fx_update(c, ann, "weekly", "2026-W40", "failed", "failed", T0, 0);
    fx_update(c, ann, "weekly", "2026-W41", "next week", "ready", T0, T0 + 40);
    CHECK_INT(db_outbox_digest_week(c, "2026-W40", &it, &n), DB_OK);
    CHECK_INT(n, 3);
    CHECK_INT(it[0].update_id, ah);          /* all-hands first */
    CHECK_INT(it[0].allhands, 1);
    CHECK_INT(it[1].update_id, w2);          /* then by author, any case */
    CHECK_INT(it[2].update_id, w1);
    CHECK_STR(it[2].author, "zoe");
    free(it);
    CHECK_INT(db_outbox_digest_week(c, "2026-W39", &it, &n), DB_OK);
    CHECK_INT(n, 0);
    /* The day [T0, T0 + 25) for Ann: Zoe's weekly update only (not Ann's own,
     * not the all-hands, not later ones). */
    CHECK_INT(db_outbox_digest_daily(c, ann, T0, T0 + 25, &it, &n), DB_OK);
    CHECK_INT(n, 1);
    CHECK_INT(it[0].update_id, w1);
    CHECK_INT(it[0].author_id, zoe);
    free(it);
    /* Reader 0: every author's, for several readers at once. */
    CHECK_INT(db_outbox_digest_daily(c, 0, T0, T0 + 25, &it, &n), DB_OK);
    CHECK_INT(n, 2);
    CHECK(n == 2 && it[0].update_id == w2 && it[0].author_id == ann && it[1].update_id == w1);
    free(it);
    fx_fault_on();
    CHECK_INT(db_outbox_digest_week(c, "2026-W40", &it, &n), DB_ERROR);
    CHECK_INT(db_outbox_digest_daily(c, ann, T0, T0 + 25, &it, &n), DB_ERROR);
    fx_fault_off();
    fx_close(c);
}

int main(void)
{
    unit_run(enqueue_writes_a_message_that_can_be_claimed_with_its_fields,
             "enqueue_writes_a_message_that_can_be_claimed_with_its_fields");
    unit_run(enqueue_with_a_dedupe_key_already_used_is_a_constraint_and_writes_nothing,
             "enqueue_with_a_dedupe_key_already_used_is_a_constraint_and_writes_nothing");
    unit_run(enqueue_busy_and_failing_catalogs_answer_errors, "enqueue_busy_and_failing_catalogs_answer_errors");
    unit_run(claim_takes_due_messages_oldest_first_and_each_once,
             "claim_takes_due_messages_oldest_first_and_each_once");
    unit_run(claim_on_a_busy_or_failing_catalog_is_an_error_not_an_empty_outbox,
             "claim_on_a_busy_or_failing_catalog_is_an_error_not_an_empty_outbox");
    unit_run(sent_failed_retry_and_unclaim_move_only_a_claimed_message,
             "sent_failed_retry_and_unclaim_move_only_a_claimed_message");
    unit_run(failed_is_final_and_listed_for_the_admin, "failed_is_final_and_listed_for_the_admin");
    unit_run(moves_on_a_busy_or_failing_catalog_answer_errors_and_change_nothing,
             "moves_on_a_busy_or_failing_catalog_answer_errors_and_change_nothing");
    unit_run(release_claims_frees_what_a_stopped_process_was_sending,
             "release_claims_frees_what_a_stopped_process_was_sending");
    unit_run(queued_at_and_count_since_tell_found_from_not_found_from_error,
             "queued_at_and_count_since_tell_found_from_not_found_from_error");
    unit_run(queued_many_looks_up_every_key_in_one_statement, "queued_many_looks_up_every_key_in_one_statement");
    unit_run(unsent_lists_newest_first_up_to_the_limit_and_count_by_state,
             "unsent_lists_newest_first_up_to_the_limit_and_count_by_state");
    unit_run(people_found_not_found_deactivated_and_failing, "people_found_not_found_deactivated_and_failing");
    unit_run(unsubscribe_found_not_found_busy_and_failing, "unsubscribe_found_not_found_busy_and_failing");
    unit_run(update_notice_and_its_recipients, "update_notice_and_its_recipients");
    unit_run(comment_notice_found_not_found_and_failing, "comment_notice_found_not_found_and_failing");
    unit_run(digest_contents_for_a_week_and_for_a_day, "digest_contents_for_a_week_and_for_a_day");
    return unit_done();
}
