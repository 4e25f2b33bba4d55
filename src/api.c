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
#include "db_accounts.h"
#include "db_settings.h"
#include "conf.h"
#include "habit.h"
#include "http.h"
#include "i18n.h"
#include "isoweek.h"
#include "mail.h"
#include "metrics.h"
#include "picture.h"
#include "util.h"

json_t *api_user_json(const struct db_user *u)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:s,s:o}",
                     "id", (json_int_t)u->id, "email", u->email, "name", u->name,
                     "title", u->title, "team", u->team, "role", db_role_name(u->role),
                     "time_zone", u->time_zone, "notify_updates", u->notify_updates,
                     "notify_reminders", u->notify_reminders, "unsubscribed", u->unsubscribed,
                     "deactivated", u->deactivated, "created_at", (json_int_t)u->created_at,
                     "lang", u->lang[0] ? u->lang : "en", "avatar_url", picture_url_json(u->avatar));
}

/* The user as JSON after reading it again: DB_OK with *out, or a db_rc. */
static int user_json_by_id(struct catalog *c, int64_t id, json_t **out)
{
    struct db_user u;
    int rc = db_user_get(c, id, &u);

    *out = rc == DB_OK ? api_user_json(&u) : NULL;
    return rc;
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
    int64_t sid;
    json_t *u;
    int rc;

    if ((sid = auth_session_create(r->cat, user_id, token, sizeof(token), csrf, sizeof(csrf))) < 0)
        return api_db_fail(o, (int)sid, "starting a session");
    if ((rc = user_json_by_id(r->cat, user_id, &u)) != DB_OK) {
        db_session_delete(r->cat, sid);
        return rc < 0 ? api_db_fail(o, rc, "reading the account")
                      : http_error(o, 404, "not_found", "this account no longer exists");
    }
    auth_session_cookie(r->conf, token, cookie, sizeof(cookie));
    http_header(o, "Set-Cookie", cookie);
    return http_json(o, status, json_pack("{s:o,s:s}", "user", u, "csrf", csrf));
}

static int h_login(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "email", "password", NULL };
    const char *email, *pw;
    struct db_user u;
    json_t *body;
    int wait, rehash = 0, st, rc;

    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "email", 1, 254, &email, o)) ||
        (st = api_str_field(body, "password", 1, 1024, &pw, o)))
        goto out;
    if ((wait = auth_rate_check(r->ip, email)) > 0) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", wait);
        http_header(o, "Retry-After", ra);
        st = http_error(o, 429, "too_many_attempts",
                        "too many failed sign-ins; try again in %d minutes", (wait + 59) / 60);
        goto out;
    }
    rc = db_user_get_by_email(r->cat, email, &u);
    if (rc < 0) {
        st = api_db_fail(o, rc, "checking a sign-in");
        goto out;
    }
    if (rc == DB_NOTFOUND || u.deactivated || !auth_check_password(u.password_hash, pw, &rehash)) {
        if (rc == DB_NOTFOUND) {   /* spend the same time as a real check */
            char dummy[crypto_pwhash_STRBYTES];
            auth_hash_password(pw, dummy, sizeof(dummy));
        }
        auth_rate_record(r->ip, email, 0);
        st = http_error(o, 401, "bad_credentials", "the email or the password is wrong");
        goto out;
    }
    auth_rate_record(r->ip, email, 1);
    if (rehash) {   /* best effort: the old hash still works */
        char h[crypto_pwhash_STRBYTES];
        if (auth_hash_password(pw, h, sizeof(h)) == 0)
            db_user_set_password(r->cat, u.id, h);
    }
    st = start_session(r, o, u.id, 200);
out:
    sodium_memzero(&u, sizeof(u));
    json_decref(body);
    return st;
}

static int h_logout(struct req *r, struct resp *o)
{
    char cookie[256];
    int rc;

    if (r->user.session_id && (rc = db_session_delete(r->cat, r->user.session_id)) < 0)
        return api_db_fail(o, rc, "ending the session");
    auth_session_cookie(r->conf, NULL, cookie, sizeof(cookie));
    http_header(o, "Set-Cookie", cookie);
    return http_json(o, 200, json_pack("{s:b}", "signed_out", 1));
}

static int h_me(struct req *r, struct resp *o)
{
    json_t *u;
    int rc = user_json_by_id(r->cat, r->user.id, &u);

    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "your account no longer exists");
    if (rc < 0)
        return api_db_fail(o, rc, "reading your account");
    return http_json(o, 200, json_pack("{s:o,s:s?}", "user", u, "csrf",
                                       r->user.session_id ? r->user.csrf : NULL));
}

static int h_me_patch(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "name", "title", "team", "time_zone", "notify_updates",
                                        "notify_reminders", "unsubscribed", "password",
                                        "current_password", "lang", NULL };
    const char *pw, *cur;
    int rem = 0, rem_set = 0, unsub = 0, unsub_set = 0, st, rc;
    char hash[crypto_pwhash_STRBYTES];
    struct db_user_patch p = { .notify_reminders = -1, .unsubscribed = -1 };
    struct db_user me;
    json_t *body = http_body_json(r, o);

    if (!body)
        return o->status;
    if ((st = api_only_keys(body, keys, o)) ||
        (st = api_str_field(body, "name", 0, 200, &p.name, o)) ||
        (st = api_str_field(body, "title", 0, 200, &p.title, o)) ||
        (st = api_str_field(body, "team", 0, 200, &p.team, o)) ||
        (st = api_str_field(body, "time_zone", 0, 64, &p.time_zone, o)) ||
        (st = api_str_field(body, "notify_updates", 0, 16, &p.notify_updates, o)) ||
        (st = api_str_field(body, "lang", 0, 8, &p.lang, o)) ||
        (st = api_str_field(body, "password", 0, 1024, &pw, o)) ||
        (st = api_str_field(body, "current_password", 0, 1024, &cur, o)) ||
        (st = api_bool_field(body, "notify_reminders", &rem, &rem_set, o)) ||
        (st = api_bool_field(body, "unsubscribed", &unsub, &unsub_set, o)))
        goto out;
    if (p.name && !*p.name) {
        st = http_error(o, 400, "bad_field", "the name must not be empty");
        goto out;
    }
    if (p.lang && !db_lang_ok(p.lang)) {
        st = http_error(o, 400, "bad_field", "lang must be en or fr");
        goto out;
    }
    if (p.time_zone && !hc_tz_valid(p.time_zone)) {
        st = http_error(o, 400, "bad_field", "\"%s\" is not a time zone this server knows (e.g. Europe/Paris)",
                        p.time_zone);
        goto out;
    }
    if (p.notify_updates && strcmp(p.notify_updates, "immediate") && strcmp(p.notify_updates, "digest") &&
        strcmp(p.notify_updates, "off")) {
        st = http_error(o, 400, "bad_field", "notify_updates must be immediate, digest or off");
        goto out;
    }
    if (pw) {
        if ((rc = db_user_get(r->cat, r->user.id, &me)) < 0) {
            st = api_db_fail(o, rc, "checking your password");
            goto out;
        }
        if (rc == DB_NOTFOUND || !cur || !auth_check_password(me.password_hash, cur, NULL)) {
            st = http_error(o, 403, "bad_credentials", "the current password is wrong");
            goto out;
        }
        if ((st = api_new_password(pw, hash, sizeof(hash), o)))
            goto out;
        p.password_hash = hash;
        p.keep_session = r->user.session_id;
    }
    if (rem_set)
        p.notify_reminders = rem;
    if (unsub_set)
        p.unsubscribed = unsub;
    rc = db_user_update(r->cat, r->user.id, &p);
    if (rc == DB_NOTFOUND)
        st = http_error(o, 404, "not_found", "your account no longer exists");
    else if (rc < 0)
        st = api_db_fail(o, rc, "saving your settings");
    else
        st = h_me(r, o);
out:
    json_decref(body);
    return st;
}

/* ---- first-run setup and invites ---- */

static int h_setup_get(struct req *r, struct resp *o)
{
    int64_t n;
    int rc = db_user_count(r->cat, &n);

    if (rc < 0)
        return api_db_fail(o, rc, "checking whether setup is needed");
    return http_json(o, 200, json_pack("{s:b}", "needed", n == 0));
}

/*
 * Create a user from an invite/setup token (one transaction, in db/). Both
 * take the person's title, team and language (lang, else the browser's
 * Accept-Language when it names one Hubcast writes, else the invite's,
 * else English); the setup also takes the company's name.
 */
static int redeem(struct req *r, struct resp *o, enum db_link purpose)
{
    static const char *const setup_keys[] = { "token", "email", "name", "password", "title", "team",
                                              "lang", "company_name", NULL };
    static const char *const accept_keys[] = { "token", "email", "name", "password", "title", "team",
                                               "lang", NULL };
    const char *token, *email, *name, *pw, *title, *team, *lang, *company = NULL;
    struct db_user nu;
    struct db_invite inv;
    json_t *body;
    int64_t uid;
    int st, rc, setup = purpose == DB_LINK_SETUP, browser;
    enum lang asked;

    memset(&nu, 0, sizeof(nu));
    memset(&inv, 0, sizeof(inv));
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, setup ? setup_keys : accept_keys, o)) ||
        (st = api_str_field(body, "token", 1, 128, &token, o)) ||
        (st = api_str_field(body, "email", setup, 254, &email, o)) ||
        (st = api_str_field(body, "name", setup, 200, &name, o)) ||
        (st = api_str_field(body, "password", 1, 1024, &pw, o)) ||
        (st = api_str_field(body, "title", 0, 200, &title, o)) ||
        (st = api_str_field(body, "team", 0, 200, &team, o)) ||
        (st = api_str_field(body, "lang", 0, 8, &lang, o)) ||
        (setup && (st = api_str_field(body, "company_name", 0, 200, &company, o))))
        goto out;
    if (email && !api_email_ok(email)) {
        st = http_error(o, 400, "bad_field", "\"%s\" is not an email address", email);
        goto out;
    }
    if (lang && !db_lang_ok(lang)) {
        st = http_error(o, 400, "bad_field", "lang must be en or fr");
        goto out;
    }
    if (company && !*company) {
        st = http_error(o, 400, "bad_field", "the company name must not be empty");
        goto out;
    }
    /* An invite is for the address it was sent to: the account gets that
     * address (db_invite_redeem sees to it), and an accept naming another
     * one is refused rather than quietly changed. */
    if (!setup) {
        rc = auth_invite_find(r->cat, token, purpose, &inv);
        if (rc < 0) {
            st = api_db_fail(o, rc, "reading the invite");
            goto out;
        }
        if (rc == DB_OK && email && strcasecmp(email, inv.email)) {
            st = http_error(o, 400, "bad_field", "this invite is for %s, not %s", inv.email, email);
            goto out;
        }
    }
    if ((st = api_new_password(pw, nu.password_hash, sizeof(nu.password_hash), o)))
        goto out;
    hc_strlcpy(nu.email, email ? email : "", sizeof(nu.email));
    hc_strlcpy(nu.name, name ? name : "", sizeof(nu.name));
    hc_strlcpy(nu.title, title ? title : "", sizeof(nu.title));
    hc_strlcpy(nu.team, team ? team : "", sizeof(nu.team));
    asked = i18n_accept_language(http_get_header(r, "Accept-Language"), &browser);
    hc_strlcpy(nu.lang, lang ? lang : browser ? i18n_lang_name(asked) : db_lang_ok(inv.lang) ? inv.lang : "en",
               sizeof(nu.lang));
    rc = setup ? auth_setup_redeem(r->cat, token, &nu, company, &uid)
               : auth_invite_redeem(r->cat, token, purpose, &nu, &uid);
    if (rc == DB_NOTFOUND)
        st = http_error(o, 410, "link_expired", "this link has expired or was already used; ask for a new one");
    else if (rc == DB_INVALID)
        st = http_error(o, 409, "already_set_up", "Hubcast already has an administrator");
    else if (rc == DB_CONSTRAINT)
        st = http_error(o, 409, "exists", "an account with this email already exists");
    else if (rc < 0)
        st = api_db_fail(o, rc, "creating the account");
    else
        st = start_session(r, o, uid, 201);
out:
    sodium_memzero(&nu, sizeof(nu));
    json_decref(body);
    return st;
}

static int h_setup_post(struct req *r, struct resp *o)
{
    return redeem(r, o, DB_LINK_SETUP);
}

static int h_invite_accept(struct req *r, struct resp *o)
{
    return redeem(r, o, DB_LINK_INVITE);
}

void api_public_base(struct req *r, char *out, size_t outsz)
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

/* What became of one address of an invite request. */
enum invite_outcome {
    INVITE_SENT,        /* a new link mailed, or an unused invite's link renewed and mailed */
    INVITE_MEMBER,      /* the address already has an account */
    INVITE_INVALID      /* not an email address */
};

/*
 * Invite email (name may be NULL) in language lang ("en" or "fr"):
 * *outcome, and for INVITE_SENT *inv (the invite as JSON: id, email, url,
 * expires_at, resent, lang). An address with an unused invite gets that
 * invite again with a fresh link (the old one stops working) in lang, not
 * a second one. Returns 0, or the status of the catalog failure set in o.
 */
static int invite_one(struct req *r, struct resp *o, const char *email, const char *name, enum role role,
                      const char *lang, enum invite_outcome *outcome, json_t **inv)
{
    char token[TOKEN_CHARS], base[600], url[800];
    struct db_user existing;
    struct db_invite pend;
    int64_t id, expires;
    int rc, resent = 0;

    *inv = NULL;
    if (!api_email_ok(email)) {
        *outcome = INVITE_INVALID;
        return 0;
    }
    if ((rc = db_user_get_by_email(r->cat, email, &existing)) < 0)
        return api_db_fail(o, rc, "checking the address");
    if (rc == DB_OK) {
        *outcome = INVITE_MEMBER;
        return 0;
    }
    if ((rc = db_invite_pending_by_email(r->cat, email, &pend)) < 0)
        return api_db_fail(o, rc, "checking the address");
    if (rc == DB_OK && (rc = auth_invite_renew(r->cat, pend.id, INVITE_TTL, lang, token, sizeof(token), &pend)) == DB_OK) {
        resent = 1;
        id = pend.id;
        expires = pend.expires_at;
        if (!name || !*name)
            name = pend.name;
    } else if (rc < 0 && rc != DB_NOTFOUND) {
        return api_db_fail(o, rc, "renewing the invite");
    } else {    /* none, or it was used or revoked meanwhile: a new one */
        expires = (int64_t)hc_now() + INVITE_TTL;
        id = auth_invite_create(r->cat, DB_LINK_INVITE, email, name, role, r->user.id, lang,
                                INVITE_TTL, token, sizeof(token));
        if (id < 0)
            return api_db_fail(o, (int)id, "creating the invite");
    }
    api_public_base(r, base, sizeof(base));
    snprintf(url, sizeof(url), "%s/invite#token=%s", base, token);
    /* No new invite without its mail: if the mail cannot be queued, the
     * link (never shown to anyone) goes again. A renewed invite stays, to
     * be sent again. */
    if (mail_queue_invite_in(r->cat, r->conf, lang, email, name, r->user.name, url) < 0) {
        if (!resent)
            db_invite_delete(r->cat, id);
        return api_db_fail(o, DB_ERROR, "queueing the invite mail");
    }
    *outcome = INVITE_SENT;
    *inv = json_pack("{s:I,s:s,s:s,s:I,s:b,s:s}", "id", (json_int_t)id, "email", email, "url", url,
                     "expires_at", (json_int_t)expires, "resent", resent, "lang", lang);
    return 0;
}

#define INVITE_BATCH_MAX 100

/* One address and its display name, from a pasted list or an array. */
struct invitee {
    char email[DB_EMAIL_MAX];
    char name[DB_NAME_MAX];
};

/* Trim spaces and quotes at both ends of s[0..n) into out. */
static void trimmed(const char *s, size_t n, char *out, size_t outsz)
{
    while (n && strchr(" \t\r\n\"'", *s)) {
        s++;
        n--;
    }
    while (n && strchr(" \t\r\n\"'", s[n - 1]))
        n--;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Append one to list unless its address is there already (without case).
 * -1 past INVITE_BATCH_MAX, else 0. */
static int add_invitee(const struct invitee *one, struct invitee *list, size_t *count)
{
    if (!one->email[0])
        return 0;
    for (size_t k = 0; k < *count; k++)
        if (!strcasecmp(list[k].email, one->email))
            return 0;
    if (*count == INVITE_BATCH_MAX)
        return -1;
    list[(*count)++] = *one;
    return 0;
}

/*
 * Add the addresses of one item of a pasted list s[0..n): "Name <addr>"
 * (as mail programs copy them), "Name addr", or addresses separated by
 * spaces. Words without an @ name the address when the item has exactly
 * one; in an item with no address at all each word is kept (and will be
 * reported as not an address). -1 past INVITE_BATCH_MAX, else 0.
 */
static int add_item(const char *s, size_t n, struct invitee *list, size_t *count)
{
    const char *lt = memchr(s, '<', n), *gt = lt ? memchr(lt, '>', n - (size_t)(lt - s)) : NULL;
    struct invitee one;
    size_t i, start, ats = 0, words = 0;

    memset(&one, 0, sizeof(one));
    if (lt && gt) {
        trimmed(lt + 1, (size_t)(gt - lt - 1), one.email, sizeof(one.email));
        trimmed(s, (size_t)(lt - s), one.name, sizeof(one.name));
        return add_invitee(&one, list, count);
    }
    for (i = 0; i < n; ) {          /* count words, and words with an @ */
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        for (start = i; i < n && s[i] != ' ' && s[i] != '\t'; i++)
            ;
        if (i > start) {
            words++;
            ats += memchr(s + start, '@', i - start) != NULL;
        }
    }
    if (ats == 1 && words > 1) {    /* "Zoë Martin zoe@example.com" */
        size_t at = (size_t)((const char *)memchr(s, '@', n) - s), b = at, e = at;
        while (b > 0 && s[b - 1] != ' ' && s[b - 1] != '\t')
            b--;
        while (e < n && s[e] != ' ' && s[e] != '\t')
            e++;
        trimmed(s + b, e - b, one.email, sizeof(one.email));
        trimmed(s, b, one.name, sizeof(one.name));
        if (!one.name[0])
            trimmed(s + e, n - e, one.name, sizeof(one.name));
        return add_invitee(&one, list, count);
    }
    for (i = 0; i < n; ) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        for (start = i; i < n && s[i] != ' ' && s[i] != '\t'; i++)
            ;
        memset(&one, 0, sizeof(one));
        trimmed(s + start, i - start, one.email, sizeof(one.email));
        if (add_invitee(&one, list, count) < 0)
            return -1;
    }
    return 0;
}

/* Pasted text: at most 100 kB, no control characters but line ends and tabs. */
static int pasted_ok(const char *s)
{
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
        if (*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t')
            return 0;
    return n <= 100000;
}

/* Split text at commas, semicolons and line ends into list. 0, or -1 when too many. */
static int parse_list(const char *text, struct invitee *list, size_t *count)
{
    while (*text) {
        size_t n = strcspn(text, ",;\r\n");
        if (add_item(text, n, list, count) < 0)
            return -1;
        text += n;
        if (*text)
            text++;
    }
    return 0;
}

/*
 * The addresses of an invite request: "email" (one, with "name"), or
 * "emails" as an array of addresses or as pasted text. Returns 0 with
 * *list (caller frees) and *count, else the status of the error set in o.
 */
static int invitees(json_t *body, struct resp *o, struct invitee **list, size_t *count)
{
    json_t *emails = json_object_get(body, "emails"), *v;
    const char *email, *name;
    size_t i;
    int st;

    *list = hc_calloc(INVITE_BATCH_MAX, sizeof(**list));
    *count = 0;
    if (emails && json_object_get(body, "email")) {
        st = http_error(o, 400, "bad_field", "send email or emails, not both");
        goto fail;
    }
    if (!emails) {
        if ((st = api_str_field(body, "email", 1, 254, &email, o)) ||
            (st = api_str_field(body, "name", 0, 200, &name, o)))
            goto fail;
        hc_strlcpy((*list)[0].email, email, sizeof((*list)[0].email));
        hc_strlcpy((*list)[0].name, name ? name : "", sizeof((*list)[0].name));
        *count = 1;
        return 0;
    }
    if (json_is_string(emails) && pasted_ok(json_string_value(emails))) {
        if (parse_list(json_string_value(emails), *list, count) < 0)
            goto too_many;
    } else if (json_is_array(emails)) {
        json_array_foreach(emails, i, v) {
            if (!json_is_string(v) || !api_text_ok(json_string_value(v), 1000))
                goto bad;
            if (add_item(json_string_value(v), strlen(json_string_value(v)), *list, count) < 0)
                goto too_many;
        }
    } else {
        goto bad;
    }
    if (*count == 0) {
        st = http_error(o, 400, "bad_field", "give at least one email address");
        goto fail;
    }
    return 0;
bad:
    st = http_error(o, 400, "bad_field",
                    "emails must be a list of addresses or a text of addresses separated by commas or lines");
    goto fail;
too_many:
    st = http_error(o, 400, "bad_field", "at most %d addresses at once", INVITE_BATCH_MAX);
fail:
    free(*list);
    *list = NULL;
    return st;
}

/*
 * POST /api/people/invite. {"email", "name"?, "role"?, "lang"?}: 201
 * {invite}, 400 when not an address, 409 when it has an account.
 * {"emails": [..] or "pasted text", "role"?, "lang"?}: 200 {results:
 * [{email, name, status: "invited" | "member" | "invalid", invite?}],
 * invited: N}. lang ("en" or "fr") is the language of the invite mail,
 * by default the inviter's own.
 */
static int h_invite(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "email", "emails", "name", "role", "lang", NULL };
    const char *role_s, *lang;
    enum role role = ROLE_MEMBER;
    enum invite_outcome oc;
    struct invitee *list = NULL;
    size_t count = 0, sent = 0;
    json_t *body, *results = NULL, *inv;
    int st, batch;

    if (!(body = http_body_json(r, o)))
        return o->status;
    batch = json_object_get(body, "emails") != NULL;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "role", 0, 16, &role_s, o)) ||
        (st = api_str_field(body, "lang", 0, 8, &lang, o)) || (st = invitees(body, o, &list, &count)))
        goto out;
    if (role_s && db_role_parse(role_s, &role) != DB_OK) {
        st = http_error(o, 400, "bad_field", "role must be member or admin");
        goto out;
    }
    if (lang && !db_lang_ok(lang)) {
        st = http_error(o, 400, "bad_field", "lang must be en or fr");
        goto out;
    }
    if (!lang)
        lang = db_lang_ok(r->user.lang) ? r->user.lang : "en";
    if (!batch) {
        if ((st = invite_one(r, o, list[0].email, list[0].name, role, lang, &oc, &inv)))
            goto out;
        if (oc == INVITE_INVALID)
            st = http_error(o, 400, "bad_field", "\"%s\" is not an email address", list[0].email);
        else if (oc == INVITE_MEMBER)
            st = http_error(o, 409, "exists", "%s already has an account", list[0].email);
        else
            st = http_json(o, 201, json_pack("{s:o}", "invite", inv));
        goto out;
    }
    results = json_array();
    for (size_t i = 0; i < count; i++) {
        static const char *const names[] = { "invited", "member", "invalid" };
        json_t *one;

        if ((st = invite_one(r, o, list[i].email, list[i].name, role, lang, &oc, &inv)))
            goto out;
        one = json_pack("{s:s,s:s,s:s}", "email", list[i].email, "name", list[i].name,
                        "status", names[oc]);
        if (inv)
            json_object_set_new(one, "invite", inv);
        json_array_append_new(results, one);
        sent += oc == INVITE_SENT;
    }
    st = http_json(o, 200, json_pack("{s:O,s:I}", "results", results, "invited", (json_int_t)sent));
out:
    json_decref(results);
    free(list);
    json_decref(body);
    return st;
}

/* ---- people ---- */

static json_t *person_json(const struct db_person *p)
{
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:b}",
                          "id", (json_int_t)p->user.id, "email", p->user.email, "name", p->user.name,
                          "title", p->user.title, "team", p->user.team,
                          "role", db_role_name(p->user.role), "time_zone", p->user.time_zone,
                          "deactivated", p->user.deactivated);
    json_object_set_new(j, "avatar_url", picture_url_json(p->user.avatar));
    json_object_set_new(j, "latest_week", p->latest_week[0] ? json_string(p->latest_week) : json_null());
    json_object_set_new(j, "latest_update",
                        p->latest_update ? json_integer((json_int_t)p->latest_update) : json_null());
    return j;
}

static int h_people(struct req *r, struct resp *o)
{
    struct db_person *people;
    size_t n;
    json_t *arr;
    int rc;

    if (http_get_arg(r, "q"))
        return habit_people_search(r, o);   /* ?q=: autocomplete of @mentions */
    if ((rc = db_people_list(r->cat, &people, &n)) < 0)
        return api_db_fail(o, rc, "reading the directory");
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, person_json(&people[i]));
    free(people);
    return http_json(o, 200, json_pack("{s:o}", "people", arr));
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
    const char *role_s;
    enum role role = ROLE_MEMBER;
    int deact = 0, deact_set = 0, st, rc;
    int64_t id;
    json_t *body, *u;

    if (api_parse_id(r->match.params[0], &id) < 0)
        return http_error(o, 404, "not_found", "there is no such person");
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "role", 0, 16, &role_s, o)) ||
        (st = api_bool_field(body, "deactivated", &deact, &deact_set, o)))
        goto out;
    if (role_s && db_role_parse(role_s, &role) != DB_OK) {
        st = http_error(o, 400, "bad_field", "role must be member or admin");
        goto out;
    }
    if (id == r->user.id && ((role_s && role < ROLE_ADMIN) || (deact_set && deact))) {
        st = http_error(o, 409, "last_admin", "you cannot remove your own administrator rights; ask another administrator");
        goto out;
    }
    rc = db_user_admin_update(r->cat, id, role_s ? &role : NULL, deact_set ? deact : -1);
    if (rc == DB_NOTFOUND) {
        st = http_error(o, 404, "not_found", "there is no such person");
        goto out;
    }
    if (rc < 0 || (rc = user_json_by_id(r->cat, id, &u)) < 0) {
        st = api_db_fail(o, rc, "changing this person");
        goto out;
    }
    st = http_json(o, 200, json_pack("{s:o}", "user", u ? u : json_null()));
out:
    json_decref(body);
    return st;
}

/* ---- purpose ---- */

static int h_purpose(struct req *r, struct resp *o)
{
    char *p = NULL, *n = NULL;
    int rc;
    json_t *j;

    if ((rc = db_setting_get(r->cat, "purpose", &p)) < 0 ||
        (rc = db_setting_get(r->cat, "company_name", &n)) < 0) {
        free(p);
        return api_db_fail(o, rc, "reading the purpose");
    }
    j = json_pack("{s:s,s:s}", "purpose", p ? p : "", "company_name", n ? n : "");
    free(p);
    free(n);
    return http_json(o, 200, j);
}

/* PUT /api/purpose: {purpose?, company_name?}, at least one. */
static int h_purpose_put(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "purpose", "company_name", NULL };
    const char *purpose, *name;
    json_t *body;
    int st, rc;

    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "purpose", 0, 20000, &purpose, o)) ||
        (st = api_str_field(body, "company_name", 0, 200, &name, o)))
        goto out;
    if (!purpose && !name) {
        st = http_error(o, 400, "missing_field", "send purpose, company_name or both");
        goto out;
    }
    if (name && !*name) {
        st = http_error(o, 400, "bad_field", "the company name must not be empty");
        goto out;
    }
    if ((purpose && (rc = db_setting_set(r->cat, "purpose", purpose)) < 0) ||
        (name && (rc = db_setting_set(r->cat, "company_name", name)) < 0)) {
        st = api_db_fail(o, rc, "saving the purpose");
        goto out;
    }
    st = h_purpose(r, o);
out:
    json_decref(body);
    return st;
}

/* ---- API tokens ---- */

static json_t *token_json(const struct db_token *t)
{
    json_t *j = json_pack("{s:I,s:s,s:I}", "id", (json_int_t)t->id, "label", t->label,
                          "created_at", (json_int_t)t->created_at);
    json_object_set_new(j, "last_used", t->last_used ? json_integer((json_int_t)t->last_used) : json_null());
    return j;
}

static int h_tokens(struct req *r, struct resp *o)
{
    struct db_token *toks;
    size_t n;
    json_t *arr;
    int rc = db_token_list(r->cat, r->user.id, &toks, &n);

    if (rc < 0)
        return api_db_fail(o, rc, "listing your tokens");
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, token_json(&toks[i]));
    free(toks);
    return http_json(o, 200, json_pack("{s:o}", "tokens", arr));
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
        return api_db_fail(o, (int)id, "creating a token");
    }
    st = http_json(o, 201, json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "token", tok,
                                     "label", label ? label : ""));
    json_decref(body);
    return st;
}

static int h_token_delete(struct req *r, struct resp *o)
{
    int64_t id;
    int rc;

    if (api_parse_id(r->match.params[0], &id) < 0 ||
        (rc = db_token_delete(r->cat, id, r->user.id)) == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "you have no token with this id");
    if (rc < 0)
        return api_db_fail(o, rc, "deleting the token");
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
