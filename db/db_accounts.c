/*
 * db_accounts.c - users, sessions, API tokens, invites/resets/setup links:
 * every SQL statement about them, and the one place where a role is
 * spelled as text. Each function that writes more than one row does it in
 * one transaction and leaves nothing behind when it fails.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_accounts.h"
#include "db_settings.h"
#include "util.h"

/* ---- roles ---- */

const char *db_role_name(enum role r)
{
    switch (r) {
    case ROLE_ADMIN:  return "admin";
    case ROLE_MEMBER: return "member";
    default:          return "anonymous";
    }
}

int db_role_parse(const char *s, enum role *out)
{
    if (s && !strcmp(s, "admin"))
        *out = ROLE_ADMIN;
    else if (s && !strcmp(s, "member"))
        *out = ROLE_MEMBER;
    else
        return DB_INVALID;
    return DB_OK;
}

static const char *const link_names[] = { "invite", "reset", "setup" };

int db_lang_ok(const char *s)
{
    return s && (!strcmp(s, "en") || !strcmp(s, "fr"));
}

/* ---- helpers ---- */

/* The db_rc of the statement that just failed (never DB_OK). */
static int failed(struct catalog *c)
{
    int rc = cat_rc(c);
    return rc < 0 ? rc : DB_ERROR;
}

/* Inside a transaction: note why, roll back, say why. */
static int tx_failed(struct catalog *c)
{
    int rc = failed(c);
    cat_rollback(c);
    return rc;
}

/* The columns read_user() expects, in order, for the users table as "u". */
#define USER_COLS "u.id, u.email, u.name, u.title, u.team, u.role, u.time_zone, " \
                  "u.notify_updates, u.notify_reminders, u.unsubscribed, u.deactivated, " \
                  "u.created_at, COALESCE(u.password_hash, ''), u.lang, COALESCE(u.avatar, '')"
#define USER_NCOLS 15

static void read_user(struct cat_stmt *st, int k, struct db_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = cat_col_int(st, k);
    cat_col_copy(st, k + 1, u->email, sizeof(u->email));
    cat_col_copy(st, k + 2, u->name, sizeof(u->name));
    cat_col_copy(st, k + 3, u->title, sizeof(u->title));
    cat_col_copy(st, k + 4, u->team, sizeof(u->team));
    /* The CHECK constraint allows only the two; fail closed regardless. */
    if (db_role_parse(cat_col_text(st, k + 5), &u->role) != DB_OK)
        u->role = ROLE_MEMBER;
    cat_col_copy(st, k + 6, u->time_zone, sizeof(u->time_zone));
    cat_col_copy(st, k + 7, u->notify_updates, sizeof(u->notify_updates));
    u->notify_reminders = cat_col_int(st, k + 8) != 0;
    u->unsubscribed = cat_col_int(st, k + 9) != 0;
    u->deactivated = cat_col_int(st, k + 10) != 0;
    u->created_at = cat_col_int(st, k + 11);
    cat_col_copy(st, k + 12, u->password_hash, sizeof(u->password_hash));
    cat_col_copy(st, k + 13, u->lang, sizeof(u->lang));
    cat_col_copy(st, k + 14, u->avatar, sizeof(u->avatar));
}

/* Step a prepared one-row query: DB_OK (row read by the caller before
 * cat_end), DB_NOTFOUND or negative. */
static int one_row(struct catalog *c, struct cat_stmt *st)
{
    int rc;

    if (!st)
        return failed(c);
    rc = cat_step(c, st);
    if (rc == 1)
        return DB_OK;
    return rc == 0 ? DB_NOTFOUND : rc;
}

/* ---- users ---- */

static int user_where(struct catalog *c, struct db_user *out, const char *sql, const char *fmt,
                      int64_t id, const char *email)
{
    struct cat_stmt *st = fmt[0] == 'I' ? cat_query(c, sql, fmt, id) : cat_query(c, sql, fmt, email);
    int rc = one_row(c, st);

    if (rc == DB_OK) {
        read_user(st, 0, out);
        cat_end(st);
    }
    return rc;
}

int db_user_get(struct catalog *c, int64_t id, struct db_user *out)
{
    return user_where(c, out, "SELECT " USER_COLS " FROM users u WHERE u.id = ?", "I", id, NULL);
}

int db_user_get_by_email(struct catalog *c, const char *email, struct db_user *out)
{
    return user_where(c, out, "SELECT " USER_COLS " FROM users u WHERE u.email = ?", "s", 0, email);
}

int db_user_count(struct catalog *c, int64_t *n)
{
    int rc = cat_get_int(c, n, "SELECT COUNT(*) FROM users", "");
    return rc == DB_NOTFOUND ? DB_ERROR : rc;   /* COUNT always has a row */
}

int db_user_list(struct catalog *c, struct db_user **out, size_t *n)
{
    struct cat_stmt *st = cat_query(c, "SELECT " USER_COLS " FROM users u ORDER BY u.id", "");
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return failed(c);
    while ((rc = cat_step(c, st)) == 1) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *out = hc_realloc(*out, cap * sizeof(**out));
        }
        read_user(st, 0, &(*out)[(*n)++]);
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_user_insert(struct catalog *c, const struct db_user *u, int64_t *id)
{
    int64_t got = cat_insert(c, "INSERT INTO users(email, name, title, team, role, password_hash, "
                                "lang, created_at) VALUES (?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?)",
                             "sssssssI", u->email, u->name, u->title, u->team, db_role_name(u->role),
                             u->password_hash, u->lang[0] ? u->lang : "en", u->created_at);
    if (got < 0)
        return failed(c);
    *id = got;
    return DB_OK;
}

int db_user_set_password(struct catalog *c, int64_t id, const char *password_hash)
{
    int n = cat_exec(c, "UPDATE users SET password_hash = ? WHERE id = ?", "sI", password_hash, id);
    if (n < 0)
        return failed(c);
    return n ? DB_OK : DB_NOTFOUND;
}

int db_user_lang(struct catalog *c, int64_t id, char out[DB_LANG_MAX])
{
    char *v = NULL;
    int rc = cat_get_text(c, &v, "SELECT lang FROM users WHERE id = ?", "I", id);

    out[0] = '\0';
    if (rc == DB_OK)
        hc_strlcpy(out, v, DB_LANG_MAX);
    free(v);
    return rc;
}

int db_user_avatar_set(struct catalog *c, int64_t id, const char *name, char old[DB_AVATAR_MAX])
{
    char *v = NULL;
    int rc, n;

    old[0] = '\0';
    if ((rc = db_begin(c)) < 0)
        return rc;
    rc = cat_get_text(c, &v, "SELECT COALESCE(avatar, '') FROM users WHERE id = ?", "I", id);
    if (rc == DB_OK)
        hc_strlcpy(old, v, DB_AVATAR_MAX);
    free(v);
    if (rc == DB_OK) {
        n = cat_exec(c, "UPDATE users SET avatar = ? WHERE id = ?", "sI", name, id);
        rc = n < 0 ? failed(c) : n ? DB_OK : DB_NOTFOUND;
    }
    if (rc != DB_OK) {
        db_rollback(c);
        old[0] = '\0';
        return rc;
    }
    if ((rc = db_commit(c)) < 0)
        old[0] = '\0';
    return rc;
}

/* One text column of users (its name from our own list, never from a caller). */
static int set_text(struct catalog *c, int64_t id, const char *sql, const char *v)
{
    return !v || cat_exec(c, sql, "sI", v, id) >= 0 ? 0 : -1;
}

static int set_int(struct catalog *c, int64_t id, const char *sql, int v)
{
    return v < 0 || cat_exec(c, sql, "iI", v, id) >= 0 ? 0 : -1;
}

int db_user_update(struct catalog *c, int64_t id, const struct db_user_patch *p)
{
    int64_t one;
    int rc;

    if (cat_begin(c) < 0)
        return failed(c);
    if ((rc = cat_get_int(c, &one, "SELECT 1 FROM users WHERE id = ?", "I", id)) != DB_OK) {
        cat_rollback(c);
        return rc;
    }
    if (set_text(c, id, "UPDATE users SET name = ? WHERE id = ?", p->name) < 0 ||
        set_text(c, id, "UPDATE users SET title = ? WHERE id = ?", p->title) < 0 ||
        set_text(c, id, "UPDATE users SET team = ? WHERE id = ?", p->team) < 0 ||
        set_text(c, id, "UPDATE users SET time_zone = ? WHERE id = ?", p->time_zone) < 0 ||
        set_text(c, id, "UPDATE users SET notify_updates = ? WHERE id = ?", p->notify_updates) < 0 ||
        set_text(c, id, "UPDATE users SET lang = ? WHERE id = ?", p->lang) < 0 ||
        set_int(c, id, "UPDATE users SET notify_reminders = ? WHERE id = ?", p->notify_reminders) < 0 ||
        set_int(c, id, "UPDATE users SET unsubscribed = ? WHERE id = ?", p->unsubscribed) < 0 ||
        set_text(c, id, "UPDATE users SET password_hash = ? WHERE id = ?", p->password_hash) < 0 ||
        /* A new password signs out every other session. */
        (p->password_hash && cat_exec(c, "DELETE FROM sessions WHERE user_id = ? AND id != ?", "II",
                                      id, p->keep_session) < 0))
        return tx_failed(c);
    if (cat_commit(c) < 0)
        return failed(c);
    return DB_OK;
}

int db_user_admin_update(struct catalog *c, int64_t id, const enum role *role, int deactivated)
{
    int64_t one;
    int rc;

    if (cat_begin(c) < 0)
        return failed(c);
    if ((rc = cat_get_int(c, &one, "SELECT 1 FROM users WHERE id = ?", "I", id)) != DB_OK) {
        cat_rollback(c);
        return rc;
    }
    if ((role && cat_exec(c, "UPDATE users SET role = ? WHERE id = ?", "sI", db_role_name(*role), id) < 0) ||
        set_int(c, id, "UPDATE users SET deactivated = ? WHERE id = ?", deactivated) < 0 ||
        (deactivated > 0 && cat_exec(c, "DELETE FROM sessions WHERE user_id = ?", "I", id) < 0))
        return tx_failed(c);
    if (cat_commit(c) < 0)
        return failed(c);
    return DB_OK;
}

int db_people_list(struct catalog *c, struct db_person **out, size_t *n)
{
    /* The directory shows each person's latest *ready* update: this reads
     * the updates table, which db_updates owns; it only reads it. */
    struct cat_stmt *st = cat_query(c,
        "SELECT " USER_COLS ", "
        "(SELECT MAX(iso_week) FROM updates p WHERE p.author_id = u.id AND p.status = 'ready'), "
        "(SELECT p.id FROM updates p WHERE p.author_id = u.id AND p.status = 'ready' "
        "  ORDER BY p.created_at DESC LIMIT 1) "
        "FROM users u ORDER BY u.deactivated, " CAT_ORDER_NOCASE("u.name") ", u.id", "");
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return failed(c);
    while ((rc = cat_step(c, st)) == 1) {
        struct db_person *p;

        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *out = hc_realloc(*out, cap * sizeof(**out));
        }
        p = &(*out)[(*n)++];
        read_user(st, 0, &p->user);
        p->user.password_hash[0] = '\0';
        cat_col_copy(st, USER_NCOLS, p->latest_week, sizeof(p->latest_week));
        p->latest_update = cat_col_int(st, USER_NCOLS + 1);
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

/* ---- sessions ---- */

int db_session_create(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                      int64_t user_id, const char *csrf, int64_t now, int64_t *id)
{
    int64_t got = cat_insert(c, "INSERT INTO sessions(token_hash, user_id, csrf, created_at, last_seen) "
                                "VALUES (?, ?, ?, ?, ?)", "bIsII", hash, DB_TOKEN_HASH_LEN,
                             user_id, csrf, now, now);
    if (got < 0)
        return failed(c);
    *id = got;
    return DB_OK;
}

int db_session_find(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    struct db_session *out)
{
    struct cat_stmt *st = cat_query(c,
        "SELECT s.id, s.csrf, s.created_at, s.last_seen, " USER_COLS " "
        "FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND u.deactivated = 0", "b", hash, DB_TOKEN_HASH_LEN);
    int rc = one_row(c, st);

    if (rc != DB_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    out->id = cat_col_int(st, 0);
    cat_col_copy(st, 1, out->csrf, sizeof(out->csrf));
    out->created_at = cat_col_int(st, 2);
    out->last_seen = cat_col_int(st, 3);
    read_user(st, 4, &out->user);
    cat_end(st);
    return DB_OK;
}

int db_session_touch(struct catalog *c, int64_t id, int64_t now)
{
    int n = cat_exec(c, "UPDATE sessions SET last_seen = ? WHERE id = ?", "II", now, id);
    if (n < 0)
        return failed(c);
    return n ? DB_OK : DB_NOTFOUND;
}

int db_session_delete(struct catalog *c, int64_t id)
{
    int n = cat_exec(c, "DELETE FROM sessions WHERE id = ?", "I", id);
    if (n < 0)
        return failed(c);
    return n ? DB_OK : DB_NOTFOUND;
}

/* ---- API tokens ---- */

int db_token_create(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    int64_t user_id, const char *label, int64_t now, int64_t *id)
{
    int64_t got = cat_insert(c, "INSERT INTO api_tokens(token_hash, user_id, label, created_at) "
                                "VALUES (?, ?, ?, ?)", "bIsI", hash, DB_TOKEN_HASH_LEN,
                             user_id, label ? label : "", now);
    if (got < 0)
        return failed(c);
    *id = got;
    return DB_OK;
}

static void read_token(struct cat_stmt *st, struct db_token *t)
{
    memset(t, 0, sizeof(*t));
    t->id = cat_col_int(st, 0);
    t->user_id = cat_col_int(st, 1);
    cat_col_copy(st, 2, t->label, sizeof(t->label));
    t->created_at = cat_col_int(st, 3);
    t->last_used = cat_col_int(st, 4);    /* NULL reads as 0 */
}

int db_token_find(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                  struct db_token *tok, struct db_user *user)
{
    struct cat_stmt *st = cat_query(c,
        "SELECT t.id, t.user_id, t.label, t.created_at, t.last_used, " USER_COLS " "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token_hash = ? AND u.deactivated = 0", "b", hash, DB_TOKEN_HASH_LEN);
    int rc = one_row(c, st);

    if (rc != DB_OK)
        return rc;
    read_token(st, tok);
    read_user(st, 5, user);
    cat_end(st);
    return DB_OK;
}

int db_token_touch(struct catalog *c, int64_t id, int64_t now)
{
    if (cat_exec(c, "UPDATE api_tokens SET last_used = ? WHERE id = ? AND "
                    "(last_used IS NULL OR last_used < ?)", "III", now, id, now - 60) < 0)
        return failed(c);
    return DB_OK;
}

int db_token_list(struct catalog *c, int64_t user_id, struct db_token **out, size_t *n)
{
    struct cat_stmt *st = cat_query(c, "SELECT id, user_id, label, created_at, last_used "
                                       "FROM api_tokens WHERE user_id = ? ORDER BY id", "I", user_id);
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return failed(c);
    while ((rc = cat_step(c, st)) == 1) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 8;
            *out = hc_realloc(*out, cap * sizeof(**out));
        }
        read_token(st, &(*out)[(*n)++]);
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_token_delete(struct catalog *c, int64_t id, int64_t user_id)
{
    int n = cat_exec(c, "DELETE FROM api_tokens WHERE id = ? AND user_id = ?", "II", id, user_id);
    if (n < 0)
        return failed(c);
    return n ? DB_OK : DB_NOTFOUND;
}

/* ---- one-time links ---- */

int db_invite_create(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                     const struct db_invite *in, int64_t *id)
{
    int64_t got = cat_insert(c, "INSERT INTO invites(token_hash, purpose, email, name, role, invited_by, "
                                "created_at, expires_at, lang) VALUES (?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?, ?)",
                             "bssssIIIs", hash, DB_TOKEN_HASH_LEN, link_names[in->purpose],
                             in->email, in->name, db_role_name(in->role == ROLE_ADMIN ? ROLE_ADMIN : ROLE_MEMBER),
                             in->invited_by, in->created_at, in->expires_at, in->lang[0] ? in->lang : "en");
    if (got < 0)
        return failed(c);
    *id = got;
    return DB_OK;
}

int db_invite_find(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                   enum db_link purpose, int64_t now, struct db_invite *out)
{
    struct cat_stmt *st = cat_query(c,
        "SELECT id, email, name, role, COALESCE(invited_by, 0), created_at, expires_at, lang FROM invites "
        "WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at >= ?",
        "bsI", hash, DB_TOKEN_HASH_LEN, link_names[purpose], now);
    int rc = one_row(c, st);

    if (rc != DB_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    out->id = cat_col_int(st, 0);
    out->purpose = purpose;
    cat_col_copy(st, 1, out->email, sizeof(out->email));
    cat_col_copy(st, 2, out->name, sizeof(out->name));
    if (db_role_parse(cat_col_text(st, 3), &out->role) != DB_OK)
        out->role = ROLE_MEMBER;
    out->invited_by = cat_col_int(st, 4);
    out->created_at = cat_col_int(st, 5);
    out->expires_at = cat_col_int(st, 6);
    cat_col_copy(st, 7, out->lang, sizeof(out->lang));
    cat_end(st);
    return DB_OK;
}

int db_invite_delete(struct catalog *c, int64_t id)
{
    int n = cat_exec(c, "DELETE FROM invites WHERE id = ?", "I", id);
    if (n < 0)
        return failed(c);
    return n ? DB_OK : DB_NOTFOUND;
}

/* Mark link id used at now, inside the caller's transaction: 0 or -1. */
static int use_link(struct catalog *c, int64_t id, int64_t now)
{
    return cat_exec(c, "UPDATE invites SET used_at = ? WHERE id = ? AND used_at IS NULL", "II", now, id) == 1
        ? 0 : -1;
}

/* db_invite_redeem and db_setup_redeem: company_name only for setup. */
static int redeem(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                  enum db_link purpose, const struct db_user *u, const char *company_name,
                  int64_t now, int64_t *uid)
{
    struct db_invite inv;
    struct db_user nu;
    int64_t count;
    int rc;

    if (purpose == DB_LINK_RESET)
        return DB_INVALID;
    if (cat_begin(c) < 0)
        return failed(c);
    if ((rc = db_invite_find(c, hash, purpose, now, &inv)) != DB_OK)
        goto fail;
    if (purpose == DB_LINK_SETUP) {
        if ((rc = db_user_count(c, &count)) != DB_OK)
            goto fail;
        if (count > 0) {
            rc = DB_INVALID;
            goto fail;
        }
    }
    nu = *u;
    nu.created_at = now;
    if (purpose == DB_LINK_INVITE) {
        hc_strlcpy(nu.email, inv.email, sizeof(nu.email));
        nu.role = inv.role;
    } else {
        nu.role = ROLE_ADMIN;
    }
    if (!nu.name[0])
        hc_strlcpy(nu.name, inv.name[0] ? inv.name : nu.email, sizeof(nu.name));
    if ((rc = db_user_insert(c, &nu, uid)) != DB_OK)
        goto fail;
    if (use_link(c, inv.id, now) < 0)
        return tx_failed(c);
    /* Same connection, so inside this transaction. */
    if (company_name && (rc = db_setting_set(c, "company_name", company_name)) != DB_OK)
        goto fail;
    if (cat_commit(c) < 0)
        return failed(c);
    return DB_OK;
fail:
    cat_rollback(c);
    return rc;
}

int db_invite_redeem(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                     enum db_link purpose, const struct db_user *u, int64_t now, int64_t *uid)
{
    return redeem(c, hash, purpose, u, NULL, now, uid);
}

int db_setup_redeem(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    const struct db_user *u, const char *company_name, int64_t now, int64_t *uid)
{
    return redeem(c, hash, DB_LINK_SETUP, u, company_name, now, uid);
}

/* ---- the administrator's invites ---- */

#define INVITE_COLS "i.id, i.email, i.name, i.role, COALESCE(i.invited_by, 0), i.created_at, i.expires_at, i.lang"

static void read_invite(struct cat_stmt *st, enum db_link purpose, struct db_invite *out)
{
    memset(out, 0, sizeof(*out));
    out->id = cat_col_int(st, 0);
    out->purpose = purpose;
    cat_col_copy(st, 1, out->email, sizeof(out->email));
    cat_col_copy(st, 2, out->name, sizeof(out->name));
    if (db_role_parse(cat_col_text(st, 3), &out->role) != DB_OK)
        out->role = ROLE_MEMBER;
    out->invited_by = cat_col_int(st, 4);
    out->created_at = cat_col_int(st, 5);
    out->expires_at = cat_col_int(st, 6);
    cat_col_copy(st, 7, out->lang, sizeof(out->lang));
}

int db_invite_list_pending(struct catalog *c, int64_t now, struct db_pending_invite **out, size_t *n)
{
    struct cat_stmt *st = cat_query(c,
        "SELECT " INVITE_COLS ", COALESCE(b.name, '') FROM invites i "
        "LEFT JOIN users b ON b.id = i.invited_by "
        "WHERE i.purpose = 'invite' AND i.used_at IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM users u WHERE u.email = i.email) "
        "ORDER BY i.created_at DESC, i.id DESC", "");
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return failed(c);
    while ((rc = cat_step(c, st)) == 1) {
        struct db_pending_invite *p;

        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *out = hc_realloc(*out, cap * sizeof(**out));
        }
        p = &(*out)[(*n)++];
        read_invite(st, DB_LINK_INVITE, &p->invite);
        cat_col_copy(st, 8, p->invited_by_name, sizeof(p->invited_by_name));
        p->expired = p->invite.expires_at < now;
    }
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

int db_invite_get_pending(struct catalog *c, int64_t id, struct db_invite *out)
{
    struct cat_stmt *st = cat_query(c, "SELECT " INVITE_COLS " FROM invites i "
                                       "WHERE i.id = ? AND i.purpose = 'invite' AND i.used_at IS NULL",
                                    "I", id);
    int rc = one_row(c, st);

    if (rc == DB_OK) {
        read_invite(st, DB_LINK_INVITE, out);
        cat_end(st);
    }
    return rc;
}

int db_invite_pending_by_email(struct catalog *c, const char *email, struct db_invite *out)
{
    struct cat_stmt *st = cat_query(c, "SELECT " INVITE_COLS " FROM invites i "
                                       "WHERE i.email = ? COLLATE NOCASE AND i.purpose = 'invite' "
                                       "AND i.used_at IS NULL ORDER BY i.created_at DESC, i.id DESC LIMIT 1",
                                    "s", email);
    int rc = one_row(c, st);

    if (rc == DB_OK) {
        read_invite(st, DB_LINK_INVITE, out);
        cat_end(st);
    }
    return rc;
}

int db_invite_renew(struct catalog *c, int64_t id, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    int64_t now, int64_t ttl, const char *lang, struct db_invite *out)
{
    int n, rc;

    if (cat_begin(c) < 0)
        return failed(c);
    n = cat_exec(c, "UPDATE invites SET token_hash = ?, created_at = ?, expires_at = ?, lang = COALESCE(?, lang) "
                    "WHERE id = ? AND purpose = 'invite' AND used_at IS NULL",
                 "bIIsI", hash, DB_TOKEN_HASH_LEN, now, now + ttl, lang, id);
    if (n < 0)
        return tx_failed(c);
    if (n == 0) {
        cat_rollback(c);
        return DB_NOTFOUND;
    }
    if ((rc = db_invite_get_pending(c, id, out)) != DB_OK) {
        cat_rollback(c);
        return rc == DB_NOTFOUND ? DB_ERROR : rc;
    }
    if (cat_commit(c) < 0)
        return failed(c);
    return DB_OK;
}

int db_invite_revoke(struct catalog *c, int64_t id)
{
    int n = cat_exec(c, "DELETE FROM invites WHERE id = ? AND purpose = 'invite' AND used_at IS NULL",
                     "I", id);
    if (n < 0)
        return failed(c);
    return n ? DB_OK : DB_NOTFOUND;
}

/* ---- the first-run checklist ---- */

int db_onboarding_get(struct catalog *c, int64_t user_id, struct db_onboarding *out)
{
    /* Reads settings, invites, users and updates (owned by db_updates);
     * writes nothing. */
    struct cat_stmt *st = cat_query(c,
        "SELECT (SELECT COUNT(*) FROM settings WHERE key = 'purpose' AND trim(value) != ''), "
        "       (SELECT COUNT(*) FROM invites WHERE purpose = 'invite') "
        "         + (SELECT CASE WHEN COUNT(*) > 1 THEN 1 ELSE 0 END FROM users), "
        "       (SELECT COUNT(*) FROM updates WHERE author_id = ? "
        "         AND status IN ('queued', 'processing', 'ready'))", "I", user_id);
    int rc = one_row(c, st);

    if (rc == DB_NOTFOUND)
        return DB_ERROR;    /* a SELECT of counts always has a row */
    if (rc != DB_OK)
        return rc;
    memset(out, 0, sizeof(*out));
    out->purpose_written = cat_col_int(st, 0) > 0;
    out->invited_someone = cat_col_int(st, 1) > 0;
    out->recorded_first_update = cat_col_int(st, 2) > 0;
    cat_end(st);
    return DB_OK;
}

int db_user_reset_password(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                           const char *password_hash, int64_t now, int *tokens_revoked)
{
    struct db_invite inv;
    int64_t uid;
    int rc, revoked;

    if (cat_begin(c) < 0)
        return failed(c);
    if ((rc = db_invite_find(c, hash, DB_LINK_RESET, now, &inv)) != DB_OK ||
        (rc = cat_get_int(c, &uid, "SELECT id FROM users WHERE email = ? AND deactivated = 0", "s",
                          inv.email)) != DB_OK) {
        cat_rollback(c);
        return rc;
    }
    if (cat_exec(c, "UPDATE users SET password_hash = ? WHERE id = ?", "sI", password_hash, uid) != 1 ||
        use_link(c, inv.id, now) < 0 ||
        /* Every session, every API token and every other reset link of this person ends. */
        cat_exec(c, "DELETE FROM sessions WHERE user_id = ?", "I", uid) < 0 ||
        (revoked = cat_exec(c, "DELETE FROM api_tokens WHERE user_id = ?", "I", uid)) < 0 ||
        cat_exec(c, "UPDATE invites SET used_at = ? WHERE purpose = 'reset' AND used_at IS NULL "
                    "AND email = ?", "Is", now, inv.email) < 0)
        return tx_failed(c);
    if (cat_commit(c) < 0)
        return failed(c);
    if (tokens_revoked)
        *tokens_revoked = revoked;
    return DB_OK;
}

/* ---- used by `hubcast serve` (first-run setup link) ---- */

int db_invite_drop_setup(struct catalog *c)
{
    return cat_exec(c, "DELETE FROM invites WHERE purpose = 'setup'", "") < 0 ? cat_rc(c) : DB_OK;
}
