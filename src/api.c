/*
 * api.c - the routing table and the account, people and purpose handlers.
 * Each handler validates everything before it changes anything, and
 * answers with a JSON body (errors: {"error":{"code","message"}}).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "api.h"
#include "auth.h"
#include "catalog.h"
#include "conf.h"
#include "http.h"
#include "isoweek.h"
#include "mail.h"
#include "metrics.h"
#include "util.h"

#define USER_COLUMNS "id, email, name, title, team, role, time_zone, notify_updates, " \
                     "notify_reminders, unsubscribed, deactivated, created_at"

json_t *api_user_json(struct catalog *c, int64_t id)
{
    json_t *u = cat_row(c, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", "I", id);
    if (u) {
        json_object_set_new(u, "notify_reminders",
                            json_boolean(json_integer_value(json_object_get(u, "notify_reminders"))));
        json_object_set_new(u, "deactivated",
                            json_boolean(json_integer_value(json_object_get(u, "deactivated"))));
        json_object_set_new(u, "unsubscribed",
                            json_boolean(json_integer_value(json_object_get(u, "unsubscribed"))));
    }
    return u;
}

int api_text_ok(const char *s, size_t maxlen)
{
    /* jansson only hands out valid UTF-8; refuse control characters. */
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
        if (*p < 0x20 && *p != '\n' && *p != '\t')
            return 0;
    return n <= maxlen;
}

int api_str_field(json_t *body, const char *key, int required, size_t maxlen,
                  const char **out, struct resp *o)
{
    json_t *v = json_object_get(body, key);

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return http_error(o, 400, "missing_field", "the field \"%s\" is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return http_error(o, 400, "bad_field", "the field \"%s\" must be a string", key);
    if (!api_text_ok(json_string_value(v), maxlen))
        return http_error(o, 400, "bad_field", "the field \"%s\" must be text of at most %zu bytes",
                          key, maxlen);
    if (required && !*json_string_value(v))
        return http_error(o, 400, "missing_field", "the field \"%s\" must not be empty", key);
    *out = json_string_value(v);
    return 0;
}

int api_bool_field(json_t *body, const char *key, int *out, int *present, struct resp *o)
{
    json_t *v = json_object_get(body, key);

    *present = 0;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return http_error(o, 400, "bad_field", "the field \"%s\" must be true or false", key);
    *out = json_is_true(v);
    *present = 1;
    return 0;
}

int api_email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (!at || at == e || strchr(at + 1, '@') || !strchr(at + 1, '.') || strlen(e) > 254)
        return 0;
    for (const char *p = e; *p; p++)
        if ((unsigned char)*p <= ' ' || strchr("<>,;\"\\()[]", *p))
            return 0;
    return 1;
}

/* Only allow keys we know, so a typo is an error rather than a silent no-op. */
int api_only_keys(json_t *body, const char *const *keys, struct resp *o)
{
    const char *k;
    json_t *v;

    json_object_foreach(body, k, v) {
        int known = 0;
        for (const char *const *p = keys; *p; p++)
            if (!strcmp(*p, k))
                known = 1;
        if (!known)
            return http_error(o, 400, "unknown_field", "the field \"%s\" is not one this request takes", k);
    }
    return 0;
}

/* ---- health and metrics ---- */

static int h_healthz(struct req *r, struct resp *o)
{
    (void)r;
    return http_text(o, 200, "text/plain; charset=utf-8", "ok\n");
}

static int h_metrics(struct req *r, struct resp *o)
{
    char *text = metrics_render(r->cat);
    http_text(o, 200, "text/plain; version=0.0.4; charset=utf-8", text);
    free(text);
    return 200;
}

/* ---- sessions ---- */

static int start_session(struct req *r, struct resp *o, int64_t user_id, int status)
{
    char token[TOKEN_CHARS], csrf[TOKEN_CHARS], cookie[256];
    json_t *u;

    if (auth_session_create(r->cat, user_id, token, sizeof(token), csrf, sizeof(csrf)) < 0)
        return http_error(o, 500, "internal", "could not start a session");
    auth_session_cookie(r, token, cookie, sizeof(cookie));
    http_header(o, "Set-Cookie", cookie);
    u = api_user_json(r->cat, user_id);
    return http_json(o, status, json_pack("{s:o,s:s}", "user", u ? u : json_null(), "csrf", csrf));
}

static int h_login(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "email", "password", NULL };
    const char *email, *pw;
    json_t *body, *row;
    int wait, rehash = 0, st;
    int64_t uid;

    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "email", 1, 254, &email, o)) ||
        (st = api_str_field(body, "password", 1, 1024, &pw, o))) {
        json_decref(body);
        return st;
    }
    if ((wait = auth_rate_check(r->ip, email)) > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", wait);
        http_header(o, "Retry-After", ra);
        json_decref(body);
        return http_error(o, 429, "too_many_attempts",
                          "too many failed sign-ins; try again in %d minutes", (wait + 59) / 60);
    }
    row = cat_row(r->cat, "SELECT id, password_hash, deactivated FROM users WHERE email = ?", "s", email);
    if (!row || json_integer_value(json_object_get(row, "deactivated")) ||
        !auth_check_password(json_string_value(json_object_get(row, "password_hash")), pw, &rehash)) {
        if (!row) {   /* spend the same time as a real check */
            char dummy[crypto_pwhash_STRBYTES];
            auth_hash_password(pw, dummy, sizeof(dummy));
        }
        auth_rate_record(r->ip, email, 0);
        json_decref(row);
        json_decref(body);
        return http_error(o, 401, "bad_credentials", "the email or the password is wrong");
    }
    uid = json_integer_value(json_object_get(row, "id"));
    auth_rate_record(r->ip, email, 1);
    if (rehash) {
        char h[crypto_pwhash_STRBYTES];
        if (auth_hash_password(pw, h, sizeof(h)) == 0)
            cat_exec(r->cat, "UPDATE users SET password_hash = ? WHERE id = ?", "sI", h, uid);
    }
    json_decref(row);
    json_decref(body);
    return start_session(r, o, uid, 200);
}

static int h_logout(struct req *r, struct resp *o)
{
    char cookie[256];

    if (r->user.session_id)
        cat_exec(r->cat, "DELETE FROM sessions WHERE id = ?", "I", r->user.session_id);
    auth_session_cookie(r, NULL, cookie, sizeof(cookie));
    http_header(o, "Set-Cookie", cookie);
    return http_json(o, 200, json_pack("{s:b}", "signed_out", 1));
}

static int h_me(struct req *r, struct resp *o)
{
    json_t *u = api_user_json(r->cat, r->user.id);
    if (!u)
        return http_error(o, 404, "not_found", "your account no longer exists");
    return http_json(o, 200, json_pack("{s:o,s:s?}", "user", u, "csrf",
                                       r->user.session_id ? r->user.csrf : NULL));
}

static int h_me_patch(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "name", "title", "team", "time_zone", "notify_updates",
                                        "notify_reminders", "unsubscribed", "password",
                                        "current_password", NULL };
    const char *name, *title, *team, *tz, *nu, *pw, *cur;
    int rem = 0, rem_set = 0, unsub = 0, unsub_set = 0, st;
    char hash[crypto_pwhash_STRBYTES];
    json_t *body = http_body_json(r, o);

    if (!body)
        return o->status;
    if ((st = api_only_keys(body, keys, o)) ||
        (st = api_str_field(body, "name", 0, 200, &name, o)) ||
        (st = api_str_field(body, "title", 0, 200, &title, o)) ||
        (st = api_str_field(body, "team", 0, 200, &team, o)) ||
        (st = api_str_field(body, "time_zone", 0, 64, &tz, o)) ||
        (st = api_str_field(body, "notify_updates", 0, 16, &nu, o)) ||
        (st = api_str_field(body, "password", 0, 1024, &pw, o)) ||
        (st = api_str_field(body, "current_password", 0, 1024, &cur, o)) ||
        (st = api_bool_field(body, "notify_reminders", &rem, &rem_set, o)) ||
        (st = api_bool_field(body, "unsubscribed", &unsub, &unsub_set, o)))
        goto out;
    if (name && !*name) {
        st = http_error(o, 400, "bad_field", "the name must not be empty");
        goto out;
    }
    if (tz && !hc_tz_valid(tz)) {
        st = http_error(o, 400, "bad_field", "\"%s\" is not a time zone this server knows (e.g. Europe/Paris)", tz);
        goto out;
    }
    if (nu && strcmp(nu, "immediate") && strcmp(nu, "digest") && strcmp(nu, "off")) {
        st = http_error(o, 400, "bad_field", "notify_updates must be immediate, digest or off");
        goto out;
    }
    if (pw) {
        char *old = cat_text(r->cat, "SELECT password_hash FROM users WHERE id = ?", "I", r->user.id);
        int ok = old && cur && auth_check_password(old, cur, NULL);

        free(old);
        if (!ok) {
            st = http_error(o, 403, "bad_credentials", "the current password is wrong");
            goto out;
        }
        if ((st = api_new_password(pw, hash, sizeof(hash), o)))
            goto out;
    }
    if (cat_begin(r->cat) < 0) {
        st = http_error(o, 503, "busy", "the catalog is busy; try again");
        goto out;
    }
    if ((name && cat_exec(r->cat, "UPDATE users SET name = ? WHERE id = ?", "sI", name, r->user.id) < 0) ||
        (title && cat_exec(r->cat, "UPDATE users SET title = ? WHERE id = ?", "sI", title, r->user.id) < 0) ||
        (team && cat_exec(r->cat, "UPDATE users SET team = ? WHERE id = ?", "sI", team, r->user.id) < 0) ||
        (tz && cat_exec(r->cat, "UPDATE users SET time_zone = ? WHERE id = ?", "sI", tz, r->user.id) < 0) ||
        (nu && cat_exec(r->cat, "UPDATE users SET notify_updates = ? WHERE id = ?", "sI", nu, r->user.id) < 0) ||
        (rem_set && cat_exec(r->cat, "UPDATE users SET notify_reminders = ? WHERE id = ?", "iI", rem, r->user.id) < 0) ||
        (unsub_set && cat_exec(r->cat, "UPDATE users SET unsubscribed = ? WHERE id = ?", "iI", unsub, r->user.id) < 0) ||
        (pw && cat_exec(r->cat, "UPDATE users SET password_hash = ? WHERE id = ?", "sI", hash, r->user.id) < 0) ||
        /* A new password signs out every other session. */
        (pw && cat_exec(r->cat, "DELETE FROM sessions WHERE user_id = ? AND id != ?", "II",
                        r->user.id, r->user.session_id) < 0) ||
        cat_commit(r->cat) < 0) {
        cat_rollback(r->cat);
        st = http_error(o, 500, "internal", "could not save your settings");
        goto out;
    }
    st = h_me(r, o);
out:
    json_decref(body);
    return st;
}

/* ---- first-run setup and invites ---- */

static int setup_needed(struct catalog *c)
{
    return cat_int(c, 0, "SELECT COUNT(*) FROM users", "") == 0;
}

static int h_setup_get(struct req *r, struct resp *o)
{
    return http_json(o, 200, json_pack("{s:b}", "needed", setup_needed(r->cat)));
}

/* Create a user from an invite/setup token inside one transaction. */
static int redeem(struct req *r, struct resp *o, const char *purpose)
{
    static const char *const keys[] = { "token", "email", "name", "password", NULL };
    const char *token, *email, *name, *pw;
    char hash[crypto_pwhash_STRBYTES];
    json_t *body, *inv = NULL;
    int64_t uid, now = (int64_t)hc_now();
    int st;

    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) ||
        (st = api_str_field(body, "token", 1, 128, &token, o)) ||
        (st = api_str_field(body, "email", !strcmp(purpose, "setup"), 254, &email, o)) ||
        (st = api_str_field(body, "name", !strcmp(purpose, "setup"), 200, &name, o)) ||
        (st = api_str_field(body, "password", 1, 1024, &pw, o)))
        goto out;
    if (email && !api_email_ok(email)) {
        st = http_error(o, 400, "bad_field", "\"%s\" is not an email address", email);
        goto out;
    }
    if ((st = api_new_password(pw, hash, sizeof(hash), o)))
        goto out;
    if (cat_begin(r->cat) < 0) {
        st = http_error(o, 503, "busy", "the catalog is busy; try again");
        goto out;
    }
    if (!(inv = auth_invite_find(r->cat, token, purpose))) {
        cat_rollback(r->cat);
        st = http_error(o, 410, "link_expired", "this link has expired or was already used; ask for a new one");
        goto out;
    }
    if (!strcmp(purpose, "setup") && !setup_needed(r->cat)) {
        cat_rollback(r->cat);
        st = http_error(o, 409, "already_set_up", "Hubcast already has an administrator");
        goto out;
    }
    /* An invite is for the address it was sent to: the account gets that
     * address, and an accept naming another one is refused. */
    if (!strcmp(purpose, "invite")) {
        const char *invited = json_string_value(json_object_get(inv, "email"));
        if (email && strcasecmp(email, invited)) {
            cat_rollback(r->cat);
            st = http_error(o, 400, "bad_field", "this invite is for %s, not %s", invited, email);
            goto out;
        }
        email = invited;
    }
    if (!name || !*name)
        name = json_string_value(json_object_get(inv, "name"));
    if (!name || !*name)
        name = email;
    uid = cat_insert(r->cat, "INSERT INTO users(email, name, role, password_hash, created_at) "
                             "VALUES (?, ?, ?, ?, ?)", "ssssI", email, name,
                     !strcmp(purpose, "setup") ? "admin" : json_string_value(json_object_get(inv, "role")),
                     hash, now);
    if (uid < 0) {
        int dup = cat_was_constraint(r->cat);
        cat_rollback(r->cat);
        st = dup ? http_error(o, 409, "exists", "an account with this email already exists")
                 : http_error(o, 500, "internal", "could not create the account");
        goto out;
    }
    if (cat_exec(r->cat, "UPDATE invites SET used_at = ? WHERE id = ?", "II", now,
                 (int64_t)json_integer_value(json_object_get(inv, "id"))) < 0 ||
        cat_commit(r->cat) < 0) {
        cat_rollback(r->cat);
        st = http_error(o, 500, "internal", "could not create the account");
        goto out;
    }
    st = start_session(r, o, uid, 201);
out:
    json_decref(inv);
    json_decref(body);
    return st;
}

static int h_setup_post(struct req *r, struct resp *o)
{
    return redeem(r, o, "setup");
}

static int h_invite_accept(struct req *r, struct resp *o)
{
    return redeem(r, o, "invite");
}

static void public_base(struct req *r, char *out, size_t outsz)
{
    if (r->conf->public_url[0]) {
        size_t n = hc_strlcpy(out, r->conf->public_url, outsz);
        while (n && out[n - 1] == '/')
            out[--n] = '\0';
    } else {
        const char *host = http_get_header(r, "Host");
        snprintf(out, outsz, "http://%s", host && !hc_has_crlf(host) ? host : "localhost:8080");
    }
}

static int h_invite(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "email", "name", "role", NULL };
    const char *email, *name, *role;
    char token[TOKEN_CHARS], base[600], url[800];
    json_t *body;
    int64_t id;
    int st;

    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) ||
        (st = api_str_field(body, "email", 1, 254, &email, o)) ||
        (st = api_str_field(body, "name", 0, 200, &name, o)) ||
        (st = api_str_field(body, "role", 0, 16, &role, o)))
        goto out;
    if (!api_email_ok(email)) {
        st = http_error(o, 400, "bad_field", "\"%s\" is not an email address", email);
        goto out;
    }
    if (role && strcmp(role, "member") && strcmp(role, "admin")) {
        st = http_error(o, 400, "bad_field", "role must be member or admin");
        goto out;
    }
    if (cat_int(r->cat, 0, "SELECT COUNT(*) FROM users WHERE email = ?", "s", email)) {
        st = http_error(o, 409, "exists", "%s already has an account", email);
        goto out;
    }
    public_base(r, base, sizeof(base));
    if (cat_begin(r->cat) < 0) {
        st = http_error(o, 503, "busy", "the catalog is busy; try again");
        goto out;
    }
    id = auth_invite_create(r->cat, "invite", email, name, role ? role : "member", r->user.id,
                            7 * 24 * 3600, token, sizeof(token));
    snprintf(url, sizeof(url), "%s/invite#token=%s", base, token);
    if (id < 0 ||
        mail_queue_invite(r->cat, r->conf, email, name, r->user.name, url) < 0 ||
        cat_commit(r->cat) < 0) {
        cat_rollback(r->cat);
        st = http_error(o, 500, "internal", "could not create the invite");
        goto out;
    }
    st = http_json(o, 201, json_pack("{s:{s:I,s:s,s:s,s:I}}", "invite", "id", (json_int_t)id,
                                     "email", email, "url", url,
                                     "expires_at", (json_int_t)(hc_now() + 7 * 24 * 3600)));
out:
    json_decref(body);
    return st;
}

/* ---- people ---- */

static int h_people(struct req *r, struct resp *o)
{
    json_t *rows = cat_rows(r->cat,
        "SELECT u.id, u.email, u.name, u.title, u.team, u.role, u.time_zone, u.deactivated, "
        "(SELECT MAX(iso_week) FROM updates p WHERE p.author_id = u.id AND p.status = 'ready') AS latest_week, "
        "(SELECT p.id FROM updates p WHERE p.author_id = u.id AND p.status = 'ready' "
        "  ORDER BY p.created_at DESC LIMIT 1) AS latest_update "
        "FROM users u ORDER BY u.deactivated, u.name COLLATE NOCASE", "");
    size_t i;
    json_t *p;

    if (!rows)
        return http_error(o, 500, "internal", "could not read the directory");
    json_array_foreach(rows, i, p)
        json_object_set_new(p, "deactivated", json_boolean(json_integer_value(json_object_get(p, "deactivated"))));
    return http_json(o, 200, json_pack("{s:o}", "people", rows));
}

int api_new_password(const char *pw, char *hash, size_t hashsz, struct resp *o)
{
    const char *problem = auth_password_problem(pw);

    if (problem)
        return http_error(o, 400, "bad_password", "%s", problem);
    if (auth_hash_password(pw, hash, hashsz) < 0)
        return http_error(o, 500, "internal", "could not store the password");
    return 0;
}

int api_db_fail(struct resp *o, int rc, const char *doing)
{
    hc_log("catalog: %s while %s", db_rc_name(rc), doing);
    if (rc == DB_FULL)
        return http_error(o, 507, "storage_full",
                          "the server's disk is full, so nothing can be saved right now; "
                          "try again later (an administrator has to free space)");
    return http_error(o, 503, "catalog_unavailable",
                      "the server cannot reach its catalog right now; try again in a moment");
}

int api_parse_id(const char *s, int64_t *id)
{
    return hc_parse_i64(s, 1, INT64_MAX, id);
}

static int h_person_patch(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "role", "deactivated", NULL };
    const char *role;
    int deact = 0, deact_set = 0, st;
    int64_t id;
    json_t *body, *u;

    if (api_parse_id(r->match.params[0], &id) < 0)
        return http_error(o, 404, "not_found", "there is no such person");
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "role", 0, 16, &role, o)) ||
        (st = api_bool_field(body, "deactivated", &deact, &deact_set, o)))
        goto out;
    if (role && strcmp(role, "member") && strcmp(role, "admin")) {
        st = http_error(o, 400, "bad_field", "role must be member or admin");
        goto out;
    }
    if (!cat_int(r->cat, 0, "SELECT COUNT(*) FROM users WHERE id = ?", "I", id)) {
        st = http_error(o, 404, "not_found", "there is no such person");
        goto out;
    }
    if (id == r->user.id && ((role && !strcmp(role, "member")) || (deact_set && deact))) {
        st = http_error(o, 409, "last_admin", "you cannot remove your own administrator rights; ask another administrator");
        goto out;
    }
    if (cat_begin(r->cat) < 0) {
        st = http_error(o, 503, "busy", "the catalog is busy; try again");
        goto out;
    }
    if ((role && cat_exec(r->cat, "UPDATE users SET role = ? WHERE id = ?", "sI", role, id) < 0) ||
        (deact_set && cat_exec(r->cat, "UPDATE users SET deactivated = ? WHERE id = ?", "iI", deact, id) < 0) ||
        (deact_set && deact && cat_exec(r->cat, "DELETE FROM sessions WHERE user_id = ?", "I", id) < 0) ||
        cat_commit(r->cat) < 0) {
        cat_rollback(r->cat);
        st = http_error(o, 500, "internal", "could not change this person");
        goto out;
    }
    u = api_user_json(r->cat, id);
    st = http_json(o, 200, json_pack("{s:o}", "user", u ? u : json_null()));
out:
    json_decref(body);
    return st;
}

/* ---- purpose ---- */

static int h_purpose(struct req *r, struct resp *o)
{
    char *p = cat_setting(r->cat, "purpose");
    char *n = cat_setting(r->cat, "company_name");
    json_t *j = json_pack("{s:s,s:s}", "purpose", p ? p : "", "company_name", n ? n : "");
    free(p);
    free(n);
    return http_json(o, 200, j);
}

static int h_purpose_put(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "purpose", "company_name", NULL };
    const char *purpose, *name;
    json_t *body;
    int st;

    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "purpose", 1, 20000, &purpose, o)) ||
        (st = api_str_field(body, "company_name", 0, 200, &name, o))) {
        json_decref(body);
        return st;
    }
    if (cat_set_setting(r->cat, "purpose", purpose) < 0 ||
        (name && cat_set_setting(r->cat, "company_name", name) < 0)) {
        json_decref(body);
        return http_error(o, 500, "internal", "could not save the purpose");
    }
    json_decref(body);
    return h_purpose(r, o);
}

/* ---- API tokens ---- */

static int h_tokens(struct req *r, struct resp *o)
{
    json_t *rows = cat_rows(r->cat, "SELECT id, label, created_at, last_used FROM api_tokens "
                                    "WHERE user_id = ? ORDER BY id", "I", r->user.id);
    if (!rows)
        return http_error(o, 500, "internal", "could not list your tokens");
    return http_json(o, 200, json_pack("{s:o}", "tokens", rows));
}

static int h_token_create(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "label", NULL };
    const char *label = NULL;
    char tok[TOKEN_CHARS + 8];
    json_t *body = NULL;
    int64_t id;
    int st;

    if (r->body_len) {
        if (!(body = http_body_json(r, o)))
            return o->status;
        if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "label", 0, 200, &label, o))) {
            json_decref(body);
            return st;
        }
    }
    id = auth_token_create(r->cat, r->user.id, label, tok, sizeof(tok));
    if (id < 0) {
        json_decref(body);
        return http_error(o, 500, "internal", "could not create a token");
    }
    st = http_json(o, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "token", tok,
                                     "label", label ? label : ""));
    json_decref(body);
    return st;
}

static int h_token_delete(struct req *r, struct resp *o)
{
    int64_t id;

    if (api_parse_id(r->match.params[0], &id) < 0 ||
        cat_exec(r->cat, "DELETE FROM api_tokens WHERE id = ? AND user_id = ?", "II", id, r->user.id) != 1)
        return http_error(o, 404, "not_found", "you have no token with this id");
    return http_json(o, 200, json_pack("{s:b}", "deleted", 1));
}

/* ---- the table ---- */

const struct route api_routes[] = {
    { "GET",    "/healthz",               h_healthz,       ROLE_ANON,   0, NULL },
    { "GET",    "/metrics",               h_metrics,       ROLE_ANON,   0, NULL },
    { "GET",    "/api/setup",             h_setup_get,     ROLE_ANON,   0, NULL },
    { "POST",   "/api/setup",             h_setup_post,    ROLE_ANON,   RF_NOCSRF, NULL },
    { "POST",   "/api/session",           h_login,         ROLE_ANON,   RF_NOCSRF, NULL },
    { "DELETE", "/api/session",           h_logout,        ROLE_MEMBER, 0, NULL },
    { "GET",    "/api/me",                h_me,            ROLE_MEMBER, 0, NULL },
    { "PATCH",  "/api/me",                h_me_patch,      ROLE_MEMBER, 0, NULL },
    { "GET",    "/api/people",            h_people,        ROLE_MEMBER, 0, NULL },
    { "POST",   "/api/people/invite",     h_invite,        ROLE_ADMIN,  0, NULL },
    { "PATCH",  "/api/people/{id}",       h_person_patch,  ROLE_ADMIN,  0, NULL },
    { "POST",   "/api/invites/accept",    h_invite_accept, ROLE_ANON,   RF_NOCSRF, NULL },
    { "GET",    "/api/purpose",           h_purpose,       ROLE_MEMBER, 0, NULL },
    { "PUT",    "/api/purpose",           h_purpose_put,   ROLE_ADMIN,  0, NULL },
    { "GET",    "/api/tokens",            h_tokens,        ROLE_MEMBER, 0, NULL },
    { "POST",   "/api/tokens",            h_token_create,  ROLE_MEMBER, 0, NULL },
    { "DELETE", "/api/tokens/{id}",       h_token_delete,  ROLE_MEMBER, 0, NULL },
};
const size_t api_nroutes = HC_ARRAY_LEN(api_routes);
