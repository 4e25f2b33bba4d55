/*
 * mail_api.c - the HTTP side of mail: the admin's outbox, mail settings,
 * reminder schedule and test mail; password reset requests and their
 * links; one-click unsubscribe.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <sodium.h>

#include "api.h"
#include "auth.h"
#include "catalog.h"
#include "conf.h"
#include "http.h"
#include "isoweek.h"
#include "mail.h"
#include "mail_int.h"
#include "media.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * HTTP: admin outbox, mail settings and schedule; password reset;
 * unsubscribe.
 */
static int h_outbox(struct req *r, struct resp *o)
{
    json_t *rows = cat_rows(r->cat, "SELECT id, kind, to_addr, subject, state, attempts, next_try, last_error, "
                                    "created_at, claimed_at FROM outbox WHERE state IN ('pending', 'failed') "
                                    "ORDER BY id DESC LIMIT 500", "");
    json_t *counts = cat_rows(r->cat, "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state", "");
    json_t *byst = json_pack("{s:i,s:i,s:i}", "pending", 0, "sent", 0, "failed", 0), *cnt;
    size_t i;

    if (!rows || !counts) {
        json_decref(rows);
        json_decref(counts);
        json_decref(byst);
        return http_error(o, 500, "internal", "could not read the outbox");
    }
    json_array_foreach(counts, i, cnt)
        json_object_set(byst, JS(cnt, "state"), json_object_get(cnt, "n"));
    json_decref(counts);
    return http_json(o, 200, json_pack("{s:o,s:o}", "messages", rows, "counts", byst));
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
    char *url = cat_setting(r->cat, "smtp_url"), *from = cat_setting(r->cat, "mail_from");
    const char *eff_url = url && *url ? url : r->conf->smtp_url;
    const char *eff_from = from && *from ? from : r->conf->mail_from;
    char red[600];
    json_t *j;

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
    int st;

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
    if (url && strstr(url, ":********@") && (old = cat_setting(r->cat, "smtp_url"))) {
        const char *oat = strrchr(old, '@'), *nat = strstr(url, ":********@");
        const char *ocolon = oat ? memchr(old, ':', (size_t)(oat - old)) : NULL;
        if (ocolon && strstr(old, "://") && (ocolon = strchr(strstr(old, "://") + 3, ':')) && ocolon < oat) {
            snprintf(keep, sizeof(keep), "%.*s%.*s%s", (int)(nat - url), url, (int)(oat - ocolon), ocolon,
                     nat + 9);
            url = keep;
        }
    }
    if ((url && cat_set_setting(r->cat, "smtp_url", url) < 0) ||
        (from && cat_set_setting(r->cat, "mail_from", from) < 0)) {
        st = http_error(o, 500, "internal", "could not save the mail settings");
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
    int64_t id;

    if (mail_queue_test(r->cat, &r->user, hc_now()) < 0)
        return http_error(o, 500, "internal", "could not queue the test message");
    id = cat_int(r->cat, 0, "SELECT MAX(id) FROM outbox WHERE kind = 'test' AND to_user = ?", "I", r->user.id);
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
        char *v = cat_setting(r->cat, keys[i]);
        long n = 0;
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

static int h_schedule_put(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "reminder_day", "reminder_time", "reminder_second",
                                        "digest_day", "digest_time", NULL };
    json_t *body = http_body_json(r, o), *v;
    const char *rt, *dt;
    int second = 0, second_set = 0, st;
    char num[8];

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
    }
    if (cat_begin(r->cat) < 0) {
        st = http_error(o, 503, "busy", "the catalog is busy; try again");
        goto out;
    }
    for (int k = 0; k < 2; k++) {
        if ((v = json_object_get(body, k ? "digest_day" : "reminder_day"))) {
            snprintf(num, sizeof(num), "%d", (int)json_integer_value(v));
            cat_set_setting(r->cat, k ? "digest_day" : "reminder_day", num);
        }
    }
    if (rt)
        cat_set_setting(r->cat, "reminder_time", rt);
    if (dt)
        cat_set_setting(r->cat, "digest_time", dt);
    if (second_set)
        cat_set_setting(r->cat, "reminder_second", second ? "1" : "0");
    if (cat_commit(r->cat) < 0) {
        cat_rollback(r->cat);
        st = http_error(o, 500, "internal", "could not save the schedule");
        goto out;
    }
    st = h_schedule_get(r, o);
out:
    json_decref(body);
    return st;
}

/* Always 202, whether or not the address has an account. */
static int h_reset(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "email", NULL };
    const char *email;
    json_t *body = http_body_json(r, o), *u = NULL;
    char token[TOKEN_CHARS];
    time_t now = hc_now();
    int st;

    if (!body)
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "email", 1, 254, &email, o)))
        goto out;
    u = cat_row(r->cat, "SELECT id, email, name, role FROM users WHERE email = ? AND deactivated = 0", "s", email);
    /* At most three reset mails an hour per person. */
    if (u && cat_int(r->cat, 0, "SELECT COUNT(*) FROM outbox WHERE kind = 'reset' AND to_user = ? "
                                "AND created_at > ?", "II", JI(u, "id"), (int64_t)now - 3600) < 3) {
        if (cat_begin(r->cat) == 0) {
            if (auth_invite_create(r->cat, DB_LINK_RESET, JS(u, "email"), JS(u, "name"), ROLE_MEMBER, 0,
                                   RESET_TTL, token, sizeof(token)) < 0 ||
                mail_queue_reset(r->cat, u, token, now) < 0 || cat_commit(r->cat) < 0)
                cat_rollback(r->cat);
        }
    }
    st = http_json(o, 202, json_pack("{s:s}", "status",
                                     "if this address has an account, a reset link is on its way"));
out:
    json_decref(u);
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
    int64_t uid = token ? mail_unsub_verify(r->cat, token) : 0;
    int post = !strcmp(r->method, "POST");
    json_t *u;

    if (!uid || !(u = mail_user_row(r->cat, uid))) {
        if (wants_html(r))
            return unsub_page(o, 400, "Link not valid", "This unsubscribe link is not valid.", NULL);
        return http_error(o, 400, "bad_token", "this unsubscribe link is not valid");
    }
    if (post && cat_exec(r->cat, "UPDATE users SET unsubscribed = 1 WHERE id = ?", "I", uid) < 0) {
        json_decref(u);
        return http_error(o, 500, "internal", "could not unsubscribe you; try again");
    }
    if (wants_html(r)) {
        char msg[512];
        int st;
        if (post || JI(u, "unsubscribed"))
            snprintf(msg, sizeof(msg), "%s will get no more mail from Hubcast.", JS(u, "email"));
        else
            snprintf(msg, sizeof(msg), "Stop all Hubcast mail to %s?", JS(u, "email"));
        st = unsub_page(o, 200, post || JI(u, "unsubscribed") ? "Unsubscribed" : "Unsubscribe",
                        msg, post || JI(u, "unsubscribed") ? NULL : token);
        json_decref(u);
        return st;
    }
    {
        int st = http_json(o, 200, json_pack("{s:s,s:b}", "email", JS(u, "email"), "unsubscribed",
                                             post || JI(u, "unsubscribed")));
        json_decref(u);
        return st;
    }
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

