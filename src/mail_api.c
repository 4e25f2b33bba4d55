/*
 * mail_api.c - the HTTP side of mail: the admin's outbox, mail settings,
 * reminder schedule and test mail; password reset requests and their
 * links; one-click unsubscribe.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "api.h"
#include "auth.h"
#include "catalog.h"
#include "conf.h"
#include "db_accounts.h"
#include "db_outbox.h"
#include "db_settings.h"
#include "http.h"
#include "mail.h"
#include "mail_int.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * HTTP: admin outbox, mail settings and schedule; password reset;
 * unsubscribe.
 */
/* The JSON of a row of the admin's outbox page. */
static json_t *outbox_entry_json(const struct db_outbox_entry *e)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:I,s:s,s:I,s:o}", "id", (json_int_t)e->id, "kind", e->kind,
                     "to_addr", e->to_addr, "subject", e->subject, "state", e->state, "attempts", e->attempts,
                     "next_try", (json_int_t)e->next_try, "last_error", e->last_error,
                     "created_at", (json_int_t)e->created_at,
                     "claimed_at", e->claimed_at ? json_integer(e->claimed_at) : json_null());
}

static int h_outbox(struct req *r, struct resp *o)
{
    struct db_outbox_entry *rows;
    struct db_outbox_counts cnt;
    json_t *list;
    size_t n;
    int rc;

    if ((rc = db_outbox_count(r->cat, &cnt)) < 0 || (rc = db_outbox_unsent(r->cat, 500, &rows, &n)) < 0)
        return api_db_fail(o, rc, "reading the outbox");
    list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, outbox_entry_json(&rows[i]));
    free(rows);
    return http_json(o, 200, json_pack("{s:o,s:{s:I,s:I,s:I}}", "messages", list, "counts",
                                       "pending", (json_int_t)cnt.pending, "sent", (json_int_t)cnt.sent,
                                       "failed", (json_int_t)cnt.failed));
}

/* A setting, or NULL when it is not set. DB_OK or a negative db_rc. */
static int setting(struct catalog *c, const char *key, char **out)
{
    int rc = db_setting_get(c, key, out);
    return rc == DB_NOTFOUND ? DB_OK : rc;
}

/* The URL with its password replaced by "********". */
static void redact_url(const char *url, char *out, size_t outsz)
{
    const char *s = strstr(url, "://"), *at, *colon, *slash;

    hc_strlcpy(out, url, outsz);
    if (!s)
        return;
    s += 3;
    slash = strchr(s, '/');
    at = strrchr(s, '@');
    if (!at || (slash && at > slash))
        return;
    colon = memchr(s, ':', (size_t)(at - s));
    if (!colon)
        return;
    snprintf(out, outsz, "%.*s:********%s", (int)(colon - url), url, at);
}

static int h_mail_get(struct req *r, struct resp *o)
{
    char *url = NULL, *from = NULL, red[600];
    const char *eff_url, *eff_from;
    json_t *j;
    int rc;

    if ((rc = setting(r->cat, "smtp_url", &url)) < 0 || (rc = setting(r->cat, "mail_from", &from)) < 0) {
        free(url);
        return api_db_fail(o, rc, "reading the mail settings");
    }
    eff_url = url && *url ? url : r->conf->smtp_url;
    eff_from = from && *from ? from : r->conf->mail_from;
    redact_url(eff_url, red, sizeof(red));
    j = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "smtp_url", red, "mail_from", eff_from,
                  "smtp_url_source", url && *url ? "admin" : eff_url[0] ? "config" : "none",
                  "mail_from_source", from && *from ? "admin" : eff_from[0] ? "config" : "none",
                  "enabled", eff_url[0] != '\0', "allow_plaintext", r->conf->smtp_allow_plaintext);
    free(url);
    free(from);
    return http_json(o, 200, j);
}

static int h_mail_put(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "smtp_url", "mail_from", NULL };
    const char *url, *from;
    char keep[600], *old = NULL;
    json_t *body = http_body_json(r, o);
    int st, rc;

    if (!body)
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "smtp_url", 0, 500, &url, o)) ||
        (st = api_str_field(body, "mail_from", 0, 250, &from, o)))
        goto out;
    if (url && *url && (hc_has_crlf(url) || strpbrk(url, " \t") ||
                        (strncmp(url, "smtp://", 7) && strncmp(url, "smtps://", 8)))) {
        st = http_error(o, 400, "bad_field", "smtp_url must be an smtp:// or smtps:// URL");
        goto out;
    }
    if (from && *from) {
        char n[256], a[256];
        mail_parse_from(from, n, sizeof(n), a, sizeof(a));
        if (hc_has_crlf(from) || !api_email_ok(a)) {
            st = http_error(o, 400, "bad_field", "mail_from must be an address, or Name <address>");
            goto out;
        }
    }
    /* The page shows the URL redacted; sending it back keeps the password. */
    if (url && strstr(url, ":********@") && (rc = setting(r->cat, "smtp_url", &old)) < 0) {
        st = api_db_fail(o, rc, "reading the mail settings");
        goto out;
    }
    if (url && strstr(url, ":********@") && old) {
        const char *oat = strrchr(old, '@'), *nat = strstr(url, ":********@");
        const char *ocolon = oat ? memchr(old, ':', (size_t)(oat - old)) : NULL;
        if (ocolon && strstr(old, "://") && (ocolon = strchr(strstr(old, "://") + 3, ':')) && ocolon < oat) {
            snprintf(keep, sizeof(keep), "%.*s%.*s%s", (int)(nat - url), url, (int)(oat - ocolon), ocolon,
                     nat + 9);
            url = keep;
        }
    }
    if ((url && (rc = db_setting_set(r->cat, "smtp_url", url)) < 0) ||
        (from && (rc = db_setting_set(r->cat, "mail_from", from)) < 0)) {
        st = api_db_fail(o, rc, "saving the mail settings");
        goto out;
    }
    st = h_mail_get(r, o);
out:
    free(old);
    json_decref(body);
    return st;
}

static int h_mail_test(struct req *r, struct resp *o)
{
    int64_t id = 0;
    int rc = mail_queue_test(r->cat, r->user.id, r->user.email, r->user.name, hc_now(), &id);

    if (rc < 0)
        return api_db_fail(o, rc, "queueing the test message");
    return http_json(o, 202, json_pack("{s:I,s:s}", "queued", (json_int_t)id, "to", r->user.email));
}

static int valid_hhmm(const char *s)
{
    return s && strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' &&
           s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' && (s[0] < '2' || s[1] <= '3');
}

static int h_schedule_get(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "reminder_day", "reminder_time", "reminder_second",
                                        "digest_day", "digest_time" };
    json_t *j = json_object();

    for (size_t i = 0; i < HC_ARRAY_LEN(keys); i++) {
        char *v = NULL;
        long n = 0;
        int rc = setting(r->cat, keys[i], &v);
        if (rc < 0) {
            json_decref(j);
            return api_db_fail(o, rc, "reading the schedule");
        }
        if (strstr(keys[i], "_time"))
            json_object_set_new(j, keys[i], json_string(v && valid_hhmm(v) ? v : "10:00"));
        else if (!strcmp(keys[i], "reminder_second"))
            json_object_set_new(j, keys[i], json_boolean(v && strcmp(v, "0")));
        else
            json_object_set_new(j, keys[i], json_integer(v && hc_parse_long(v, 1, 7, &n) == 0 ? n : 1));
        free(v);
    }
    return http_json(o, 200, j);
}

/* The schedule's new values (NULL: unchanged), in one transaction. */
static int save_schedule(struct catalog *c, const char *rday, const char *dday, const char *rt,
                         const char *dt, const char *second)
{
    int rc;

    if ((rc = db_begin(c)) < 0)
        return rc;
    if ((rday && (rc = db_setting_set(c, "reminder_day", rday)) < 0) ||
        (dday && (rc = db_setting_set(c, "digest_day", dday)) < 0) ||
        (rt && (rc = db_setting_set(c, "reminder_time", rt)) < 0) ||
        (dt && (rc = db_setting_set(c, "digest_time", dt)) < 0) ||
        (second && (rc = db_setting_set(c, "reminder_second", second)) < 0)) {
        db_rollback(c);
        return rc;
    }
    return db_commit(c);
}

static int h_schedule_put(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "reminder_day", "reminder_time", "reminder_second",
                                        "digest_day", "digest_time", NULL };
    json_t *body = http_body_json(r, o), *v;
    const char *rt, *dt;
    int second = 0, second_set = 0, st, rc;
    char num[2][8], *day[2] = { NULL, NULL };

    if (!body)
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "reminder_time", 0, 5, &rt, o)) ||
        (st = api_str_field(body, "digest_time", 0, 5, &dt, o)) ||
        (st = api_bool_field(body, "reminder_second", &second, &second_set, o)))
        goto out;
    if ((rt && !valid_hhmm(rt)) || (dt && !valid_hhmm(dt))) {
        st = http_error(o, 400, "bad_field", "times are HH:MM, 24-hour");
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        v = json_object_get(body, k ? "digest_day" : "reminder_day");
        if (v && (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 7)) {
            st = http_error(o, 400, "bad_field", "%s is an ISO weekday, 1 (Monday) to 7 (Sunday)",
                            k ? "digest_day" : "reminder_day");
            goto out;
        }
        if (v) {
            snprintf(num[k], sizeof(num[k]), "%d", (int)json_integer_value(v));
            day[k] = num[k];
        }
    }
    if ((rc = save_schedule(r->cat, day[0], day[1], rt, dt, !second_set ? NULL : second ? "1" : "0")) < 0) {
        st = api_db_fail(o, rc, "saving the schedule");
        goto out;
    }
    st = h_schedule_get(r, o);
out:
    json_decref(body);
    return st;
}

/* Open a reset link for u and queue its mail, in one transaction. */
static int queue_reset(struct catalog *c, const struct db_outbox_person *u, time_t now)
{
    char token[TOKEN_CHARS];
    int rc;

    if ((rc = db_begin(c)) < 0)
        return rc;
    if (auth_invite_create(c, DB_LINK_RESET, u->email, u->name, ROLE_MEMBER, 0, NULL, RESET_TTL, token, sizeof(token)) < 0) {
        db_rollback(c);
        return DB_ERROR;
    }
    if ((rc = mail_queue_reset(c, u, token, now)) < 0) {
        db_rollback(c);
        return rc;
    }
    return db_commit(c);
}

/* Always 202, whether or not the address has an account. */
static int h_reset(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "email", NULL };
    struct db_outbox_person u;
    const char *email;
    json_t *body = http_body_json(r, o);
    time_t now = hc_now();
    int64_t recent = 0;
    int st, rc;

    if (!body)
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "email", 1, 254, &email, o)))
        goto out;
    rc = db_outbox_person_by_email(r->cat, email, &u);
    /* At most three reset mails an hour per person. */
    if (rc == DB_OK)
        rc = db_outbox_count_since(r->cat, "reset", u.id, (int64_t)now - 3600, &recent);
    if (rc == DB_OK && recent < 3)
        rc = queue_reset(r->cat, &u, now);
    if (rc < 0) {
        st = api_db_fail(o, rc, "sending a reset link");
        goto out;
    }
    st = http_json(o, 202, json_pack("{s:s}", "status",
                                     "if this address has an account, a reset link is on its way"));
out:
    json_decref(body);
    return st;
}

static int h_reset_confirm(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "token", "password", NULL };
    const char *token, *pw;
    char hash[crypto_pwhash_STRBYTES];
    json_t *body = http_body_json(r, o);
    int st, rc, revoked = 0;

    if (!body)
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "token", 1, 128, &token, o)) ||
        (st = api_str_field(body, "password", 1, 1024, &pw, o)))
        goto out;
    if ((st = api_new_password(pw, hash, sizeof(hash), o)))
        goto out;
    /* One transaction: the new password, and every session, API token and
     * other reset link of the person ends. */
    rc = auth_reset_password(r->cat, token, hash, &revoked);
    if (rc == DB_NOTFOUND)
        st = http_error(o, 410, "link_expired", "this link has expired or was already used; ask for a new one");
    else if (rc < 0)
        st = api_db_fail(o, rc, "changing the password");
    else
        st = http_json(o, 200, json_pack("{s:b,s:i}", "reset", 1, "tokens_revoked", revoked));
out:
    sodium_memzero(hash, sizeof(hash));
    json_decref(body);
    return st;
}

static int wants_html(struct req *r)
{
    const char *acc = http_get_header(r, "Accept");
    return acc && strstr(acc, "text/html");
}

static int unsub_page(struct resp *o, int status, const char *title, const char *msg, const char *form_token)
{
    struct sbuf b = { 0 };
    int st;

    sb_add(&b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    sb_html(&b, title);
    sb_add(&b, "</title></head><body style=\"font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em\"><h1>");
    sb_html(&b, title);
    sb_add(&b, "</h1><p>");
    sb_html(&b, msg);
    sb_add(&b, "</p>");
    if (form_token) {
        sb_add(&b, "<form method=\"post\" action=\"/api/unsubscribe?token=");
        sb_html(&b, form_token);
        sb_add(&b, "\"><button type=\"submit\">Unsubscribe from all Hubcast mail</button></form>");
    }
    sb_add(&b, "</body></html>\n");
    st = http_text(o, status, "text/html; charset=utf-8", b.p);
    free(b.p);
    return st;
}

/* GET shows what would happen (mail scanners follow links; they must not
 * unsubscribe anyone); POST, including RFC 8058 one-click, does it. */
static int h_unsubscribe(struct req *r, struct resp *o)
{
    const char *token = http_get_arg(r, "token");
    int post = !strcmp(r->method, "POST"), done, rc;
    struct db_outbox_person u;
    int64_t uid = 0;

    rc = token ? mail_unsub_verify(r->cat, token, &uid) : DB_NOTFOUND;
    if (rc == DB_OK)
        rc = db_outbox_person(r->cat, uid, &u);
    if (rc == DB_OK && post)
        rc = db_outbox_unsubscribe(r->cat, uid);
    if (rc < 0)
        return api_db_fail(o, rc, post ? "unsubscribing" : "reading an unsubscribe link");
    if (rc == DB_NOTFOUND) {
        if (wants_html(r))
            return unsub_page(o, 400, "Link not valid", "This unsubscribe link is not valid.", NULL);
        return http_error(o, 400, "bad_token", "this unsubscribe link is not valid");
    }
    done = post || u.unsubscribed;
    if (wants_html(r)) {
        char msg[512];
        if (done)
            snprintf(msg, sizeof(msg), "%s will get no more mail from Hubcast.", u.email);
        else
            snprintf(msg, sizeof(msg), "Stop all Hubcast mail to %s?", u.email);
        return unsub_page(o, 200, done ? "Unsubscribed" : "Unsubscribe", msg, done ? NULL : token);
    }
    return http_json(o, 200, json_pack("{s:s,s:b}", "email", u.email, "unsubscribed", done));
}

const struct route mail_routes[] = {
    { "GET",  "/api/admin/outbox",            h_outbox,        ROLE_ADMIN, 0, NULL },
    { "GET",  "/api/admin/mail",              h_mail_get,      ROLE_ADMIN, 0, NULL },
    { "PUT",  "/api/admin/mail",              h_mail_put,      ROLE_ADMIN, 0, NULL },
    { "POST", "/api/admin/mail/test",         h_mail_test,     ROLE_ADMIN, 0, NULL },
    { "GET",  "/api/admin/schedule",          h_schedule_get,  ROLE_ADMIN, 0, NULL },
    { "PUT",  "/api/admin/schedule",          h_schedule_put,  ROLE_ADMIN, 0, NULL },
    { "POST", "/api/password/reset",          h_reset,         ROLE_ANON,  RF_NOCSRF, NULL },
    { "POST", "/api/password/reset/confirm",  h_reset_confirm, ROLE_ANON,  RF_NOCSRF, NULL },
    { "GET",  "/api/unsubscribe",             h_unsubscribe,   ROLE_ANON,  0, NULL },
    { "POST", "/api/unsubscribe",             h_unsubscribe,   ROLE_ANON,  RF_NOCSRF, NULL },
};
const size_t mail_nroutes = HC_ARRAY_LEN(mail_routes);

