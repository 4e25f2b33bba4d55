/*
 * test_db_accounts.c - the accounts data layer (db/db_accounts.c) against a
 * real SQLite catalog in a temporary folder: for each public function that
 * can fail, found, not found, a constraint violation where one can happen,
 * busy (another connection holding the write lock, with a short busy
 * timeout) and an injected error (the catalog fault hook).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include "db_backend.h"

#include "catalog.h"
#include "db_accounts.h"
#include "db_settings.h"
#include "unit.h"

static char dir[256], dbpath[300], faultpath[300];
static struct catalog *cat;     /* the connection under test */
static struct catalog *other;   /* a second connection, to hold locks */
static int64_t alice, bob;      /* a member and an administrator */

static void hash_of(const char *s, unsigned char h[DB_TOKEN_HASH_LEN])
{
    memset(h, 0, DB_TOKEN_HASH_LEN);
    memcpy(h, s, strnlen(s, DB_TOKEN_HASH_LEN));
}

static int64_t add_user(const char *email, const char *name, enum role role)
{
    struct db_user u;
    int64_t id = 0;

    memset(&u, 0, sizeof(u));
    snprintf(u.email, sizeof(u.email), "%s", email);
    snprintf(u.name, sizeof(u.name), "%s", name);
    snprintf(u.password_hash, sizeof(u.password_hash), "hash-of-%s", name);
    u.role = role;
    u.created_at = 1000;
    if (db_user_insert(cat, &u, &id) != DB_OK)
        return -1;
    return id;
}

static int64_t add_link(const char *secret, enum db_link purpose, const char *email,
                        enum role role, int64_t expires)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_invite in;
    int64_t id = 0;

    memset(&in, 0, sizeof(in));
    in.purpose = purpose;
    snprintf(in.email, sizeof(in.email), "%s", email);
    snprintf(in.name, sizeof(in.name), "Invited");
    in.role = role;
    in.created_at = 1000;
    in.expires_at = expires;
    hash_of(secret, h);
    return db_invite_create(cat, h, &in, &id) == DB_OK ? id : -1;
}

/* ---- injected errors and busy: every fallible function, one call each ---- */

static int f_user_get(void) { struct db_user u; return db_user_get(cat, alice, &u); }
static int f_user_by_email(void) { struct db_user u; return db_user_get_by_email(cat, "alice@example.com", &u); }
static int f_user_count(void) { int64_t n; return db_user_count(cat, &n); }
static int f_user_list(void)
{
    struct db_user *l; size_t n; int rc = db_user_list(cat, &l, &n);
    free(l);
    return rc;
}
static int f_user_insert(void)
{
    struct db_user u; int64_t id;
    memset(&u, 0, sizeof(u));
    snprintf(u.email, sizeof(u.email), "new-%d@example.com", rand());
    snprintf(u.name, sizeof(u.name), "New");
    u.role = ROLE_MEMBER;
    return db_user_insert(cat, &u, &id);
}
static int f_user_set_password(void) { return db_user_set_password(cat, alice, "hash-of-Alice"); }
static int f_user_update(void)
{
    struct db_user_patch p = { .title = "Engineer", .notify_reminders = -1, .unsubscribed = -1 };
    return db_user_update(cat, alice, &p);
}
static int f_user_admin_update(void) { return db_user_admin_update(cat, alice, NULL, 0); }
static int f_people_list(void)
{
    struct db_person *l; size_t n; int rc = db_people_list(cat, &l, &n);
    free(l);
    return rc;
}
static int f_session_create(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; int64_t id; char s[32];
    snprintf(s, sizeof(s), "sess-%d", rand());
    hash_of(s, h);
    return db_session_create(cat, h, alice, "csrf", 1000, &id);
}
static int f_session_find(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; struct db_session s;
    hash_of("no such session", h);
    return db_session_find(cat, h, &s);
}
static int f_session_touch(void) { return db_session_touch(cat, 999999, 1000); }
static int f_session_delete(void) { return db_session_delete(cat, 999999); }
static int f_token_create(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; int64_t id; char s[32];
    snprintf(s, sizeof(s), "tok-%d", rand());
    hash_of(s, h);
    return db_token_create(cat, h, alice, "label", 1000, &id);
}
static int f_token_find(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; struct db_token t; struct db_user u;
    hash_of("no such token", h);
    return db_token_find(cat, h, &t, &u);
}
static int f_token_touch(void) { return db_token_touch(cat, 999999, 100000); }
static int f_token_list(void)
{
    struct db_token *l; size_t n; int rc = db_token_list(cat, alice, &l, &n);
    free(l);
    return rc;
}
static int f_token_delete(void) { return db_token_delete(cat, 999999, alice); }
static int f_invite_create(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; struct db_invite in; int64_t id; char s[32];
    memset(&in, 0, sizeof(in));
    in.purpose = DB_LINK_INVITE;
    in.role = ROLE_MEMBER;
    in.expires_at = 5000;
    snprintf(s, sizeof(s), "inv-%d", rand());
    hash_of(s, h);
    return db_invite_create(cat, h, &in, &id);
}
static int f_invite_find(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; struct db_invite in;
    hash_of("no such link", h);
    return db_invite_find(cat, h, DB_LINK_INVITE, 1000, &in);
}
static int f_invite_delete(void) { return db_invite_delete(cat, 999999); }
static int f_invite_redeem(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; struct db_user u; int64_t id;
    memset(&u, 0, sizeof(u));
    hash_of("no such link", h);
    return db_invite_redeem(cat, h, DB_LINK_INVITE, &u, 1000, &id);
}
static int f_reset_password(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    hash_of("no such link", h);
    return db_user_reset_password(cat, h, "x", 1000, NULL);
}
static int f_user_lang(void) { char l[DB_LANG_MAX]; return db_user_lang(cat, alice, l); }
static int f_invite_list_pending(void)
{
    struct db_pending_invite *l; size_t n; int rc = db_invite_list_pending(cat, 1000, &l, &n);
    free(l);
    return rc;
}
static int f_invite_pending_by_email(void) { struct db_invite in; return db_invite_pending_by_email(cat, "x@example.com", &in); }
static int f_invite_get_pending(void) { struct db_invite in; return db_invite_get_pending(cat, 999999, &in); }
static int f_invite_renew(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; struct db_invite in;
    hash_of("renewed", h);
    return db_invite_renew(cat, 999999, h, 1000, 100, NULL, &in);
}
static int f_invite_revoke(void) { return db_invite_revoke(cat, 999999); }
static int f_setup_redeem(void)
{
    unsigned char h[DB_TOKEN_HASH_LEN]; struct db_user u; int64_t id;
    memset(&u, 0, sizeof(u));
    hash_of("no such link", h);
    return db_setup_redeem(cat, h, &u, "Acme", 1000, &id);
}
static int f_onboarding_get(void) { struct db_onboarding ob; return db_onboarding_get(cat, bob, &ob); }

static const struct {
    const char *name;
    int (*fn)(void);
    int writes;             /* needs the write lock (so a held lock makes it busy) */
} calls[] = {
    { "db_user_get", f_user_get, 0 },
    { "db_user_get_by_email", f_user_by_email, 0 },
    { "db_user_count", f_user_count, 0 },
    { "db_user_list", f_user_list, 0 },
    { "db_user_insert", f_user_insert, 1 },
    { "db_user_set_password", f_user_set_password, 1 },
    { "db_user_update", f_user_update, 1 },
    { "db_user_admin_update", f_user_admin_update, 1 },
    { "db_people_list", f_people_list, 0 },
    { "db_session_create", f_session_create, 1 },
    { "db_session_find", f_session_find, 0 },
    { "db_session_touch", f_session_touch, 1 },
    { "db_session_delete", f_session_delete, 1 },
    { "db_token_create", f_token_create, 1 },
    { "db_token_find", f_token_find, 0 },
    { "db_token_touch", f_token_touch, 1 },
    { "db_token_list", f_token_list, 0 },
    { "db_token_delete", f_token_delete, 1 },
    { "db_invite_create", f_invite_create, 1 },
    { "db_invite_find", f_invite_find, 0 },
    { "db_invite_delete", f_invite_delete, 1 },
    { "db_invite_redeem", f_invite_redeem, 1 },
    { "db_user_reset_password", f_reset_password, 1 },
    { "db_user_lang", f_user_lang, 0 },
    { "db_invite_list_pending", f_invite_list_pending, 0 },
    { "db_invite_pending_by_email", f_invite_pending_by_email, 0 },
    { "db_invite_get_pending", f_invite_get_pending, 0 },
    { "db_invite_renew", f_invite_renew, 1 },
    { "db_invite_revoke", f_invite_revoke, 1 },
    { "db_setup_redeem", f_setup_redeem, 1 },
    { "db_onboarding_get", f_onboarding_get, 0 },
};

UNIT_TEST(every_function_reports_an_injected_error)
{
    FILE *f = fopen(faultpath, "w");

    CHECK(f != NULL);
    if (f)
        fclose(f);
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        int rc = calls[i].fn();
        if (rc != DB_ERROR)
            UNIT_FAIL("%s returned %d under an injected fault, expected DB_ERROR", calls[i].name, rc);
    }
    unlink(faultpath);
    CHECK_INT(f_user_get(), DB_OK);
}

UNIT_TEST(every_write_is_busy_while_another_connection_holds_the_lock)
{
    catalog_busy_timeout(cat, 50);
    CHECK_INT(cat_begin(other), 0);
    CHECK_INT(dbt_hold_writes(other), 0);
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        int rc = calls[i].fn();
        if (calls[i].writes && rc != DB_BUSY)
            UNIT_FAIL("%s returned %d while the catalog was locked, expected DB_BUSY", calls[i].name, rc);
        /* WAL: readers are not blocked by a writer, and never mistake it for "not found". */
        if (!calls[i].writes && rc < 0)
            UNIT_FAIL("%s returned %d while another connection wrote", calls[i].name, rc);
    }
    cat_rollback(other);
    CHECK_INT(f_user_set_password(), DB_OK);
}

/* ---- roles ---- */

UNIT_TEST(roles_have_one_spelling)
{
    enum role r = ROLE_ANON;

    CHECK_STR(db_role_name(ROLE_MEMBER), "member");
    CHECK_STR(db_role_name(ROLE_ADMIN), "admin");
    CHECK_INT(db_role_parse("admin", &r), DB_OK);
    CHECK_INT(r, ROLE_ADMIN);
    CHECK_INT(db_role_parse("member", &r), DB_OK);
    CHECK_INT(r, ROLE_MEMBER);
    CHECK_INT(db_role_parse("owner", &r), DB_INVALID);
    CHECK_INT(db_role_parse("Admin", &r), DB_INVALID);
    CHECK(ROLE_ANON < ROLE_MEMBER && ROLE_MEMBER < ROLE_ADMIN);
}

/* ---- users ---- */

UNIT_TEST(users_found_not_found_and_duplicate_email)
{
    struct db_user u;
    int64_t n = -1;

    CHECK_INT(db_user_get(cat, alice, &u), DB_OK);
    CHECK_STR(u.email, "alice@example.com");
    CHECK_INT(u.role, ROLE_MEMBER);
    CHECK_STR(u.time_zone, "UTC");
    CHECK_STR(u.password_hash, "hash-of-Alice");
    CHECK_INT(db_user_get(cat, 424242, &u), DB_NOTFOUND);
    CHECK_INT(db_user_get_by_email(cat, "BOB@example.com", &u), DB_OK);
    CHECK_INT(u.id, bob);
    CHECK_INT(u.role, ROLE_ADMIN);
    CHECK_INT(db_user_get_by_email(cat, "nobody@example.com", &u), DB_NOTFOUND);
    CHECK_INT(db_user_count(cat, &n), DB_OK);
    CHECK(n >= 2);
    CHECK_INT(add_user("Alice@Example.com", "Alice again", ROLE_MEMBER), -1);
    CHECK_INT(db_user_set_password(cat, 424242, "h"), DB_NOTFOUND);
}

UNIT_TEST(user_update_changes_all_or_nothing)
{
    struct db_user_patch p = { .name = "Alice A.", .team = "Core", .notify_reminders = 0,
                               .unsubscribed = -1 };
    struct db_user_patch bad = { .title = "Lead", .notify_updates = "sometimes",
                                 .notify_reminders = -1, .unsubscribed = -1 };
    struct db_user u;

    CHECK_INT(db_user_update(cat, alice, &p), DB_OK);
    CHECK_INT(db_user_get(cat, alice, &u), DB_OK);
    CHECK_STR(u.name, "Alice A.");
    CHECK_STR(u.team, "Core");
    CHECK_INT(u.notify_reminders, 0);
    /* A CHECK constraint refuses notify_updates: the title is not changed either. */
    CHECK_INT(db_user_update(cat, alice, &bad), DB_CONSTRAINT);
    CHECK_INT(db_user_get(cat, alice, &u), DB_OK);
    CHECK_STR(u.title, "");
    CHECK_INT(db_user_update(cat, 424242, &p), DB_NOTFOUND);
}

UNIT_TEST(admin_update_deactivates_and_ends_sessions)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_session s;
    struct db_user u;
    enum role admin = ROLE_ADMIN;
    int64_t carl = add_user("carl@example.com", "Carl", ROLE_MEMBER), sid;

    hash_of("carl session", h);
    CHECK_INT(db_session_create(cat, h, carl, "c", 1000, &sid), DB_OK);
    CHECK_INT(db_user_admin_update(cat, carl, &admin, -1), DB_OK);
    CHECK_INT(db_user_get(cat, carl, &u), DB_OK);
    CHECK_INT(u.role, ROLE_ADMIN);
    CHECK_INT(db_session_find(cat, h, &s), DB_OK);
    CHECK_INT(db_user_admin_update(cat, carl, NULL, 1), DB_OK);
    CHECK_INT(db_session_find(cat, h, &s), DB_NOTFOUND);
    CHECK_INT(db_user_admin_update(cat, 424242, &admin, -1), DB_NOTFOUND);
}

UNIT_TEST(lists_of_users_and_people)
{
    struct db_user *l = NULL;
    struct db_person *p = NULL;
    size_t n = 0, m = 0;
    int found = 0;

    CHECK_INT(db_user_list(cat, &l, &n), DB_OK);
    CHECK(n >= 2);
    CHECK_INT(l[0].id, alice);
    CHECK_INT(db_people_list(cat, &p, &m), DB_OK);
    CHECK_INT(m, n);
    for (size_t i = 0; i < m; i++) {
        CHECK_STR(p[i].user.password_hash, "");
        if (p[i].user.id == bob) {
            found = 1;
            CHECK_STR(p[i].latest_week, "");
            CHECK_INT(p[i].latest_update, 0);
        }
    }
    CHECK(found);
    free(l);
    free(p);
}

/* The directory's order is the same on both backends: case folded for the
 * ASCII letters, otherwise by code point (ICU, PostgreSQL's COLLATE NOCASE,
 * would put "Tokyo@" before "tokyo2" and "Émile" after "Dan"). */
UNIT_TEST(people_are_listed_in_the_same_order_on_both_backends)
{
    const char *names[] = { "zed", "Émile", "Tokyo@", "tokyo2", "Dan" };
    const char *want = "Dan,tokyo2,Tokyo@,zed,Émile,";
    int64_t ids[5];
    struct db_person *p = NULL;
    size_t m = 0;
    char got[1400] = "", email[64];

    for (int i = 0; i < 5; i++) {
        snprintf(email, sizeof(email), "order%d@example.com", i);
        ids[i] = add_user(email, names[i], ROLE_MEMBER);
        CHECK(ids[i] > 0);
    }
    CHECK_INT(db_people_list(cat, &p, &m), DB_OK);
    for (size_t i = 0; i < m; i++)
        for (int k = 0; k < 5; k++)
            if (p[i].user.id == ids[k]) {
                size_t len = strlen(got);
                snprintf(got + len, sizeof(got) - len, "%s,", p[i].user.name);
            }
    CHECK_STR(got, want);
    free(p);
}

/* ---- sessions and tokens ---- */

UNIT_TEST(sessions_found_not_found_and_duplicate)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_session s;
    int64_t id, id2;

    hash_of("alice session", h);
    CHECK_INT(db_session_create(cat, h, alice, "csrf-a", 1000, &id), DB_OK);
    CHECK_INT(db_session_create(cat, h, alice, "csrf-b", 1000, &id2), DB_CONSTRAINT);
    CHECK_INT(db_session_create(cat, (const unsigned char *)"another hash, no such user.....", 424242,
                                "c", 1000, &id2), DB_CONSTRAINT);
    CHECK_INT(db_session_find(cat, h, &s), DB_OK);
    CHECK_INT(s.id, id);
    CHECK_STR(s.csrf, "csrf-a");
    CHECK_INT(s.user.id, alice);
    CHECK_INT(db_session_touch(cat, id, 2000), DB_OK);
    CHECK_INT(db_session_find(cat, h, &s), DB_OK);
    CHECK_INT(s.last_seen, 2000);
    CHECK_INT(db_session_touch(cat, 424242, 2000), DB_NOTFOUND);
    CHECK_INT(db_session_delete(cat, id), DB_OK);
    CHECK_INT(db_session_delete(cat, id), DB_NOTFOUND);
    CHECK_INT(db_session_find(cat, h, &s), DB_NOTFOUND);
}

UNIT_TEST(tokens_found_not_found_and_only_the_owner_deletes)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_token t, *l = NULL;
    struct db_user u;
    size_t n = 0;
    int64_t id, id2;

    hash_of("alice token", h);
    CHECK_INT(db_token_create(cat, h, alice, "laptop", 1000, &id), DB_OK);
    CHECK_INT(db_token_create(cat, h, bob, "again", 1000, &id2), DB_CONSTRAINT);
    CHECK_INT(db_token_find(cat, h, &t, &u), DB_OK);
    CHECK_INT(t.id, id);
    CHECK_STR(t.label, "laptop");
    CHECK_INT(t.last_used, 0);
    CHECK_INT(u.id, alice);
    CHECK_INT(db_token_touch(cat, id, 5000), DB_OK);
    CHECK_INT(db_token_find(cat, h, &t, &u), DB_OK);
    CHECK_INT(t.last_used, 5000);
    CHECK_INT(db_token_list(cat, alice, &l, &n), DB_OK);
    CHECK(n >= 1);
    free(l);
    CHECK_INT(db_token_list(cat, 424242, &l, &n), DB_OK);
    CHECK_INT(n, 0);
    free(l);
    CHECK_INT(db_token_delete(cat, id, bob), DB_NOTFOUND);
    CHECK_INT(db_token_delete(cat, id, alice), DB_OK);
    CHECK_INT(db_token_find(cat, h, &t, &u), DB_NOTFOUND);
}

/* ---- one-time links ---- */

UNIT_TEST(invite_makes_the_invited_address_and_role_only_once)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_invite in;
    struct db_user nu, u;
    int64_t uid = 0;

    CHECK(add_link("invite dora", DB_LINK_INVITE, "dora@example.com", ROLE_ADMIN, 5000) > 0);
    hash_of("invite dora", h);
    CHECK_INT(db_invite_find(cat, h, DB_LINK_INVITE, 1000, &in), DB_OK);
    CHECK_STR(in.email, "dora@example.com");
    CHECK_INT(in.role, ROLE_ADMIN);
    CHECK_INT(db_invite_find(cat, h, DB_LINK_RESET, 1000, &in), DB_NOTFOUND);
    CHECK_INT(db_invite_find(cat, h, DB_LINK_INVITE, 6000, &in), DB_NOTFOUND);   /* expired */
    memset(&nu, 0, sizeof(nu));
    snprintf(nu.email, sizeof(nu.email), "intruder@evil.example");
    snprintf(nu.password_hash, sizeof(nu.password_hash), "h");
    CHECK_INT(db_invite_redeem(cat, h, DB_LINK_INVITE, &nu, 1000, &uid), DB_OK);
    CHECK_INT(db_user_get(cat, uid, &u), DB_OK);
    CHECK_STR(u.email, "dora@example.com");
    CHECK_STR(u.name, "Invited");
    CHECK_INT(u.role, ROLE_ADMIN);
    CHECK_INT(db_user_get_by_email(cat, "intruder@evil.example", &u), DB_NOTFOUND);
    CHECK_INT(db_invite_redeem(cat, h, DB_LINK_INVITE, &nu, 1000, &uid), DB_NOTFOUND);   /* used */
}

UNIT_TEST(invite_for_a_taken_address_is_a_constraint_and_stays_usable)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_invite in;
    struct db_user nu;
    int64_t uid = 0;

    CHECK(add_link("invite alice", DB_LINK_INVITE, "alice@example.com", ROLE_MEMBER, 5000) > 0);
    hash_of("invite alice", h);
    memset(&nu, 0, sizeof(nu));
    CHECK_INT(db_invite_redeem(cat, h, DB_LINK_INVITE, &nu, 1000, &uid), DB_CONSTRAINT);
    CHECK_INT(db_invite_find(cat, h, DB_LINK_INVITE, 1000, &in), DB_OK);
    CHECK_INT(db_invite_delete(cat, in.id), DB_OK);
    CHECK_INT(db_invite_delete(cat, in.id), DB_NOTFOUND);
}

UNIT_TEST(setup_link_works_only_while_there_is_no_account)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_user nu;
    int64_t uid = 0;

    CHECK(add_link("setup", DB_LINK_SETUP, "", ROLE_ADMIN, 5000) > 0);
    hash_of("setup", h);
    memset(&nu, 0, sizeof(nu));
    snprintf(nu.email, sizeof(nu.email), "first@example.com");
    CHECK_INT(db_invite_redeem(cat, h, DB_LINK_SETUP, &nu, 1000, &uid), DB_INVALID);
    CHECK_INT(db_invite_redeem(cat, h, DB_LINK_RESET, &nu, 1000, &uid), DB_INVALID);
}

UNIT_TEST(reset_sets_the_password_and_ends_sessions_tokens_and_other_links)
{
    unsigned char h[DB_TOKEN_HASH_LEN], hs[DB_TOKEN_HASH_LEN], ht[DB_TOKEN_HASH_LEN],
                  h2[DB_TOKEN_HASH_LEN], hb[DB_TOKEN_HASH_LEN];
    int64_t erin = add_user("erin@example.com", "Erin", ROLE_MEMBER), id;
    struct db_session s;
    struct db_token t;
    struct db_invite in;
    struct db_user u;
    int revoked = -1;

    hash_of("erin session", hs);
    hash_of("erin token 1", ht);
    hash_of("bob token", hb);
    CHECK_INT(db_session_create(cat, hs, erin, "c", 1000, &id), DB_OK);
    CHECK_INT(db_token_create(cat, ht, erin, "one", 1000, &id), DB_OK);
    hash_of("erin token 2", h);
    CHECK_INT(db_token_create(cat, h, erin, "two", 1000, &id), DB_OK);
    CHECK_INT(db_token_create(cat, hb, bob, "bob", 1000, &id), DB_OK);
    CHECK(add_link("reset erin", DB_LINK_RESET, "erin@example.com", ROLE_MEMBER, 5000) > 0);
    CHECK(add_link("reset erin 2", DB_LINK_RESET, "erin@example.com", ROLE_MEMBER, 5000) > 0);
    hash_of("reset erin", h);
    hash_of("reset erin 2", h2);
    CHECK_INT(db_user_reset_password(cat, h, "new-hash", 1000, &revoked), DB_OK);
    CHECK_INT(revoked, 2);
    CHECK_INT(db_user_get(cat, erin, &u), DB_OK);
    CHECK_STR(u.password_hash, "new-hash");
    CHECK_INT(db_session_find(cat, hs, &s), DB_NOTFOUND);
    CHECK_INT(db_token_find(cat, ht, &t, &u), DB_NOTFOUND);
    CHECK_INT(db_token_find(cat, hb, &t, &u), DB_OK);
    CHECK_INT(db_invite_find(cat, h2, DB_LINK_RESET, 1000, &in), DB_NOTFOUND);
    CHECK_INT(db_user_reset_password(cat, h, "other", 1000, &revoked), DB_NOTFOUND);
    /* A link for an address without an account changes nothing. */
    CHECK(add_link("reset ghost", DB_LINK_RESET, "ghost@example.com", ROLE_MEMBER, 5000) > 0);
    hash_of("reset ghost", h);
    CHECK_INT(db_user_reset_password(cat, h, "x", 1000, NULL), DB_NOTFOUND);
    CHECK_INT(db_invite_find(cat, h, DB_LINK_RESET, 1000, &in), DB_OK);
}

/* ---- languages, pending invites, setup, the first-run checklist ---- */

UNIT_TEST(language_defaults_to_english_and_takes_only_en_or_fr)
{
    struct db_user u;
    struct db_user_patch p = { .lang = "fr", .notify_reminders = -1, .unsubscribed = -1 };
    char l[DB_LANG_MAX];
    int64_t id = 0;

    CHECK_INT(db_user_lang(cat, alice, l), DB_OK);
    CHECK_STR(l, "en");
    CHECK_INT(db_user_lang(cat, 424242, l), DB_NOTFOUND);
    CHECK_INT(db_user_update(cat, alice, &p), DB_OK);
    CHECK_INT(db_user_lang(cat, alice, l), DB_OK);
    CHECK_STR(l, "fr");
    CHECK_INT(db_user_get(cat, alice, &u), DB_OK);
    CHECK_STR(u.lang, "fr");
    p.lang = "de";
    p.title = "Changed";
    CHECK_INT(db_user_update(cat, alice, &p), DB_CONSTRAINT);
    CHECK_INT(db_user_get(cat, alice, &u), DB_OK);
    CHECK_STR(u.lang, "fr");
    CHECK(strcmp(u.title, "Changed") != 0);       /* all or nothing */
    p.lang = "en";
    p.title = NULL;
    CHECK_INT(db_user_update(cat, alice, &p), DB_OK);
    CHECK(db_lang_ok("en") && db_lang_ok("fr") && !db_lang_ok("de") && !db_lang_ok("") && !db_lang_ok(NULL));

    memset(&u, 0, sizeof(u));
    snprintf(u.email, sizeof(u.email), "franck@example.com");
    snprintf(u.name, sizeof(u.name), "Franck");
    snprintf(u.title, sizeof(u.title), "Designer");
    snprintf(u.team, sizeof(u.team), "Product");
    snprintf(u.lang, sizeof(u.lang), "fr");
    u.role = ROLE_MEMBER;
    CHECK_INT(db_user_insert(cat, &u, &id), DB_OK);
    CHECK_INT(db_user_get(cat, id, &u), DB_OK);
    CHECK_STR(u.title, "Designer");
    CHECK_STR(u.team, "Product");
    CHECK_STR(u.lang, "fr");
    snprintf(u.email, sizeof(u.email), "klingon@example.com");
    snprintf(u.lang, sizeof(u.lang), "tlh");
    CHECK_INT(db_user_insert(cat, &u, &id), DB_CONSTRAINT);
    CHECK_INT(db_user_get_by_email(cat, "klingon@example.com", &u), DB_NOTFOUND);
}

UNIT_TEST(pending_invites_are_listed_renewed_and_revoked)
{
    unsigned char h[DB_TOKEN_HASH_LEN], h2[DB_TOKEN_HASH_LEN];
    struct db_pending_invite *l = NULL;
    struct db_invite in;
    struct db_user nu;
    size_t n = 0;
    int64_t gus, hana, uid;
    int found_gus = 0, found_hana = 0;

    gus = add_link("invite gus", DB_LINK_INVITE, "gus@example.com", ROLE_MEMBER, 5000);
    hana = add_link("invite hana", DB_LINK_INVITE, "hana@example.com", ROLE_MEMBER, 1500);
    CHECK(gus > 0 && hana > 0);
    CHECK(add_link("reset bob", DB_LINK_RESET, "bob@example.com", ROLE_MEMBER, 5000) > 0);
    CHECK_INT(db_invite_list_pending(cat, 2000, &l, &n), DB_OK);
    for (size_t i = 0; i < n; i++) {
        CHECK_INT(l[i].invite.purpose, DB_LINK_INVITE);          /* no reset links */
        CHECK(strcmp(l[i].invite.email, "bob@example.com") != 0);
        if (l[i].invite.id == gus) {
            found_gus = 1;
            CHECK_INT(l[i].expired, 0);
        }
        if (l[i].invite.id == hana) {
            found_hana = 1;
            CHECK_INT(l[i].expired, 1);                          /* listed, flagged */
        }
    }
    free(l);
    CHECK(found_gus && found_hana);

    CHECK_INT(db_invite_pending_by_email(cat, "GUS@example.com", &in), DB_OK);
    CHECK_INT(in.id, gus);
    CHECK_INT(db_invite_pending_by_email(cat, "nobody@example.com", &in), DB_NOTFOUND);
    CHECK_INT(db_invite_get_pending(cat, gus, &in), DB_OK);
    CHECK_STR(in.email, "gus@example.com");
    CHECK_INT(db_invite_get_pending(cat, 424242, &in), DB_NOTFOUND);

    /* Renewing: a new link and a new expiry; the old link stops working. */
    hash_of("invite hana", h);
    hash_of("invite hana again", h2);
    CHECK_INT(db_invite_renew(cat, hana, h2, 3000, 7000, NULL, &in), DB_OK);
    CHECK_INT(in.id, hana);
    CHECK_INT(in.created_at, 3000);
    CHECK_INT(in.expires_at, 10000);
    CHECK_INT(db_invite_find(cat, h, DB_LINK_INVITE, 3000, &in), DB_NOTFOUND);
    CHECK_INT(db_invite_find(cat, h2, DB_LINK_INVITE, 3000, &in), DB_OK);
    CHECK_STR(in.lang, "en");
    /* Renewing in another language keeps it; NULL leaves it as it is. */
    CHECK_INT(db_invite_renew(cat, hana, h2, 3000, 7000, "fr", &in), DB_OK);
    CHECK_STR(in.lang, "fr");
    CHECK_INT(db_invite_renew(cat, hana, h2, 3000, 7000, NULL, &in), DB_OK);
    CHECK_STR(in.lang, "fr");
    CHECK_INT(db_invite_renew(cat, 424242, h, 3000, 7000, NULL, &in), DB_NOTFOUND);
    /* The hash of another link is a constraint, and nothing changes. */
    hash_of("invite gus", h);
    CHECK_INT(db_invite_renew(cat, hana, h, 3000, 7000, NULL, &in), DB_CONSTRAINT);
    CHECK_INT(db_invite_find(cat, h2, DB_LINK_INVITE, 3000, &in), DB_OK);

    /* Revoking: the link stops working; a used invite is neither renewed nor revoked. */
    CHECK_INT(db_invite_revoke(cat, gus), DB_OK);
    CHECK_INT(db_invite_revoke(cat, gus), DB_NOTFOUND);
    CHECK_INT(db_invite_find(cat, h, DB_LINK_INVITE, 1000, &in), DB_NOTFOUND);
    memset(&nu, 0, sizeof(nu));
    CHECK_INT(db_invite_redeem(cat, h2, DB_LINK_INVITE, &nu, 3000, &uid), DB_OK);
    CHECK_INT(db_invite_get_pending(cat, hana, &in), DB_NOTFOUND);
    CHECK_INT(db_invite_renew(cat, hana, h, 3000, 7000, NULL, &in), DB_NOTFOUND);
    CHECK_INT(db_invite_revoke(cat, hana), DB_NOTFOUND);
    CHECK_INT(db_invite_list_pending(cat, 3000, &l, &n), DB_OK);
    for (size_t i = 0; i < n; i++)
        CHECK(l[i].invite.id != hana && l[i].invite.id != gus);
    free(l);
}

UNIT_TEST(setup_saves_the_company_name_with_the_account_or_not_at_all)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_user nu;
    char *name = NULL;
    int64_t uid = 0;

    CHECK(add_link("setup 2", DB_LINK_SETUP, "", ROLE_ADMIN, 5000) > 0);
    hash_of("setup 2", h);
    memset(&nu, 0, sizeof(nu));
    snprintf(nu.email, sizeof(nu.email), "first@example.com");
    /* Accounts exist: refused, and the name stays. */
    CHECK_INT(db_setup_redeem(cat, h, &nu, "Not Saved", 1000, &uid), DB_INVALID);
    CHECK_INT(db_setting_get(cat, "company_name", &name), DB_OK);
    CHECK_STR(name, "Our company");
    free(name);
}

UNIT_TEST(checklist_follows_purpose_invites_and_own_updates)
{
    struct db_onboarding ob;
    int64_t carl = add_user("cleo@example.com", "Cleo", ROLE_ADMIN);

    CHECK(carl > 0);
    CHECK_INT(db_setting_set(cat, "purpose", "  "), DB_OK);
    CHECK_INT(db_onboarding_get(cat, carl, &ob), DB_OK);
    CHECK_INT(ob.purpose_written, 0);                    /* blank is not written */
    CHECK_INT(ob.invited_someone, 1);                    /* several accounts already */
    CHECK_INT(ob.recorded_first_update, 0);
    CHECK_INT(db_setting_set(cat, "purpose", "Why we are here."), DB_OK);
    CHECK(cat_exec(cat, "INSERT INTO updates(author_id, iso_week, status, created_at, updated_at) "
                        "VALUES (?, '2026-W01', 'failed', 1, 1)", "I", carl) >= 0);
    CHECK_INT(db_onboarding_get(cat, carl, &ob), DB_OK);
    CHECK_INT(ob.purpose_written, 1);
    CHECK_INT(ob.recorded_first_update, 0);              /* a failed upload is not a recording */
    CHECK(cat_exec(cat, "INSERT INTO updates(author_id, iso_week, status, created_at, updated_at) "
                        "VALUES (?, '2026-W01', 'queued', 1, 1)", "I", bob) >= 0);
    CHECK_INT(db_onboarding_get(cat, carl, &ob), DB_OK);
    CHECK_INT(ob.recorded_first_update, 0);              /* someone else's */
    CHECK(cat_exec(cat, "INSERT INTO updates(author_id, iso_week, status, created_at, updated_at) "
                        "VALUES (?, '2026-W01', 'ready', 1, 1)", "I", carl) >= 0);
    CHECK_INT(db_onboarding_get(cat, carl, &ob), DB_OK);
    CHECK_INT(ob.recorded_first_update, 1);
}

/* A fresh catalog: setup names the company; the checklist of the first
 * administrator starts empty. Then a catalog from before 004 keeps its
 * people, who read English. */
UNIT_TEST(fresh_catalog_setup_and_migration_to_004)
{
    char path[400], path2[400], err[256];
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct catalog *c;
    struct db_onboarding ob;
    struct db_invite in;
    struct db_user nu, u;
    char *name = NULL;
    int64_t uid = 0, id;
    sqlite3 *db;

    if (dbt_pg_url())       /* SQLite files and SQLite's migrations */
        return;
    snprintf(path, sizeof(path), "%s/fresh.db", dir);
    CHECK((c = catalog_open(path, 1, err, sizeof(err))) != NULL);
    if (!c)
        return;
    memset(&in, 0, sizeof(in));
    in.purpose = DB_LINK_SETUP;
    in.role = ROLE_ADMIN;
    in.expires_at = 5000;
    hash_of("fresh setup", h);
    CHECK_INT(db_invite_create(c, h, &in, &id), DB_OK);
    memset(&nu, 0, sizeof(nu));
    snprintf(nu.email, sizeof(nu.email), "founder@example.com");
    snprintf(nu.name, sizeof(nu.name), "Founder");
    snprintf(nu.lang, sizeof(nu.lang), "fr");
    CHECK_INT(db_setup_redeem(c, h, &nu, "Acme", 1000, &uid), DB_OK);
    CHECK_INT(db_setting_get(c, "company_name", &name), DB_OK);
    CHECK_STR(name, "Acme");
    free(name);
    CHECK_INT(db_user_get(c, uid, &u), DB_OK);
    CHECK_INT(u.role, ROLE_ADMIN);
    CHECK_STR(u.lang, "fr");
    CHECK_INT(db_onboarding_get(c, uid, &ob), DB_OK);
    CHECK(!ob.purpose_written && !ob.invited_someone && !ob.recorded_first_update);
    CHECK_INT(db_setup_redeem(c, h, &nu, "Again", 1000, &uid), DB_NOTFOUND);   /* used */
    catalog_close(c);

    /* Schema 2 with one person, as an older hubcast left it. */
    snprintf(path2, sizeof(path2), "%s/old.db", dir);
    CHECK_INT(sqlite3_open(path2, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                               "name TEXT NOT NULL, applied_at INTEGER NOT NULL)", NULL, NULL, NULL), SQLITE_OK);
    for (const struct migration *m = catalog_migrations; m->sql && m->version <= 2; m++)
        CHECK_INT(sqlite3_exec(db, m->sql, NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "INSERT INTO schema_version VALUES (1, '001_init', 0), (2, '002_mail', 0);"
                               "INSERT INTO users(email, name, title, created_at) "
                               "VALUES ('old@example.com', 'Old Timer', 'Founder', 5)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK((c = catalog_open(path2, 1, err, sizeof(err))) != NULL);
    if (!c)
        return;
    CHECK_INT(catalog_schema_version(c), catalog_latest_version());
    CHECK_INT(db_user_get_by_email(c, "old@example.com", &u), DB_OK);
    CHECK_STR(u.name, "Old Timer");
    CHECK_STR(u.title, "Founder");
    CHECK_STR(u.lang, "en");
    catalog_close(c);
}

int main(void)
{
    char err[512];

    snprintf(dir, sizeof(dir), "%s/hubcast-unit-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(dbpath, sizeof(dbpath), "%s/hubcast.db", dir);
    snprintf(faultpath, sizeof(faultpath), "%s/fault", dir);
    setenv("HUBCAST_CATALOG_FAULT", faultpath, 1);
    catalog_fault_init(1);
    if (dbt_pg_url())
        dbt_pg_reset();
    if (!(cat = catalog_open(dbt_target(dbpath), 1, err, sizeof(err))) ||
        !(other = catalog_open(dbt_target(dbpath), 0, err, sizeof(err)))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    alice = add_user("alice@example.com", "Alice", ROLE_MEMBER);
    bob = add_user("bob@example.com", "Bob", ROLE_ADMIN);
    if (alice <= 0 || bob <= 0) {
        fprintf(stderr, "could not seed the catalog\n");
        return 1;
    }
    unit_run(roles_have_one_spelling, "roles_have_one_spelling");
    unit_run(users_found_not_found_and_duplicate_email, "users_found_not_found_and_duplicate_email");
    unit_run(user_update_changes_all_or_nothing, "user_update_changes_all_or_nothing");
    unit_run(admin_update_deactivates_and_ends_sessions, "admin_update_deactivates_and_ends_sessions");
    unit_run(lists_of_users_and_people, "lists_of_users_and_people");
    unit_run(people_are_listed_in_the_same_order_on_both_backends,
             "people_are_listed_in_the_same_order_on_both_backends");
    unit_run(sessions_found_not_found_and_duplicate, "sessions_found_not_found_and_duplicate");
    unit_run(tokens_found_not_found_and_only_the_owner_deletes,
             "tokens_found_not_found_and_only_the_owner_deletes");
    unit_run(invite_makes_the_invited_address_and_role_only_once,
             "invite_makes_the_invited_address_and_role_only_once");
    unit_run(invite_for_a_taken_address_is_a_constraint_and_stays_usable,
             "invite_for_a_taken_address_is_a_constraint_and_stays_usable");
    unit_run(setup_link_works_only_while_there_is_no_account, "setup_link_works_only_while_there_is_no_account");
    unit_run(reset_sets_the_password_and_ends_sessions_tokens_and_other_links,
             "reset_sets_the_password_and_ends_sessions_tokens_and_other_links");
    unit_run(language_defaults_to_english_and_takes_only_en_or_fr,
             "language_defaults_to_english_and_takes_only_en_or_fr");
    unit_run(pending_invites_are_listed_renewed_and_revoked, "pending_invites_are_listed_renewed_and_revoked");
    unit_run(setup_saves_the_company_name_with_the_account_or_not_at_all,
             "setup_saves_the_company_name_with_the_account_or_not_at_all");
    unit_run(checklist_follows_purpose_invites_and_own_updates,
             "checklist_follows_purpose_invites_and_own_updates");
    unit_run(fresh_catalog_setup_and_migration_to_004, "fresh_catalog_setup_and_migration_to_004");
    unit_run(every_function_reports_an_injected_error, "every_function_reports_an_injected_error");
    unit_run(every_write_is_busy_while_another_connection_holds_the_lock,
             "every_write_is_busy_while_another_connection_holds_the_lock");
    catalog_close(other);
    catalog_close(cat);
    {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return unit_done();
}
