/*
 * mail.c - the outbox and its SMTP delivery (libcurl), and every message
 * Hubcast sends: invites, password resets, new and all-hands updates,
 * reminders, digests, comments, the admin's test mail.
 *
 * A message is written to the outbox table in the transaction of the event
 * that causes it, fully rendered except for two placeholders filled in at
 * delivery: {{base}} (the public URL, which a worker process does not know)
 * and {{unsubscribe}} (the recipient's signed unsubscribe link). A thread in
 * `hubcast serve` delivers the outbox: it claims a row (claimed_at) in one
 * transaction, talks SMTP, then marks the row sent in another; a failure
 * schedules a retry with exponential backoff (mail_retry_base seconds,
 * doubling, capped at one hour) until the row is 24 h old, then it is
 * marked failed.
 *
 * Exactly-once, as far as SMTP allows: a row claimed by a process that then
 * died is released on the next start and sent again. The only window in
 * which that duplicates a message is between the server's "250" to our
 * final "." and the commit that marks the row sent (a few microseconds of
 * catalog work). Every attempt carries the same Message-ID, so even then
 * mail clients show one message. SIGTERM never opens the window: the
 * thread finishes the message it is sending before it stops.
 *
 * Not here: when reminders and digests are due (scheduler.c).
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
#include "media.h"
#include "util.h"

#define MAIL_RETRY_FOR   (24 * 3600)    /* keep retrying at least this long */
#define MAIL_RETRY_MAX   3600           /* longest wait between two attempts */
#define RESET_TTL        3600           /* password reset links */

/* ------------------------------------------------------------------------
 * A growing string. Allocation failure aborts (hc_realloc), so none of
 * these can fail and a caller only ever frees b->p.
 */
struct sbuf {
    char  *p;      /* NUL-terminated once anything was added */
    size_t len;    /* bytes used, without the NUL */
    size_t cap;    /* bytes allocated */
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = hc_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

static void sb_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        sb_addn(b, tmp, (size_t)n);
        return;
    }
    sb_addn(b, "", 0);   /* make room, then print in place */
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = b->len + (size_t)n + 1;
        b->p = hc_realloc(b->p, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* s with &, <, >, " and ' escaped for HTML text and attribute values. */
static void sb_html(struct sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': sb_add(b, "&amp;"); break;
        case '<': sb_add(b, "&lt;"); break;
        case '>': sb_add(b, "&gt;"); break;
        case '"': sb_add(b, "&quot;"); break;
        case '\'': sb_add(b, "&#39;"); break;
        default: sb_addn(b, s, 1);
        }
    }
}

/* A copy of s on one line: control characters (CR, LF, tab...) become
 * spaces. For names and titles placed in subjects and headers. */
static char *one_line(const char *s)
{
    char *d = hc_strdup(s ? s : "");
    for (unsigned char *p = (unsigned char *)d; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return d;
}

/* ------------------------------------------------------------------------
 * Header encoding (RFC 2047 "B" words in UTF-8).
 */
static int is_plain_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return 0;
    return 1;
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static size_t utf8_len(unsigned char c)
{
    if (c >= 0xf0 && c < 0xf8)
        return 4;
    if (c >= 0xe0)
        return c < 0xf0 ? 3 : 1;
    if (c >= 0xc0)
        return 2;
    return 1;
}

char *mail_header_encode(const char *value, int is_phrase)
{
    char *v = one_line(value);
    struct sbuf b = { 0 };
    size_t n = strlen(v), i = 0;

    if (is_plain_ascii(v)) {
        if (is_phrase && strpbrk(v, "()<>@,;:\\\".[]")) {
            sb_add(&b, "\"");
            for (const char *p = v; *p; p++) {
                if (*p == '"' || *p == '\\')
                    sb_add(&b, "\\");
                sb_addn(&b, p, 1);
            }
            sb_add(&b, "\"");
        } else {
            sb_add(&b, v);
        }
        sb_addn(&b, "", 0);
        free(v);
        return b.p;
    }
    /* Encoded words of at most 45 bytes of text (60 of base64), never
     * splitting a character, folded onto continuation lines. */
    while (i < n) {
        char enc[128];
        size_t start = i;

        while (i < n) {
            size_t l = utf8_len((unsigned char)v[i]);
            if (i + l > n)
                l = n - i;
            if (i - start + l > 45)
                break;
            i += l;
        }
        sodium_bin2base64(enc, sizeof(enc), (const unsigned char *)v + start, i - start,
                          sodium_base64_VARIANT_ORIGINAL);
        if (start > 0)
            sb_add(&b, "\r\n ");
        sb_addf(&b, "=?UTF-8?B?%s?=", enc);
    }
    sb_addn(&b, "", 0);
    free(v);
    return b.p;
}

/* ------------------------------------------------------------------------
 * Unsubscribe tokens: "<user id>.<HMAC-SHA256 truncated to 128 bits>",
 * keyed by a secret made on first use and kept in the settings table.
 */
static int unsub_key(struct catalog *c, unsigned char key[32])
{
    char *secret = cat_setting(c, "mail_secret");

    if (!secret) {
        char fresh[64];
        hc_random_token(fresh, sizeof(fresh), 32);
        cat_exec(c, "INSERT INTO settings(key, value) VALUES ('mail_secret', ?) "
                    "ON CONFLICT(key) DO NOTHING", "s", fresh);
        secret = cat_setting(c, "mail_secret");
        if (!secret)
            return -1;
    }
    crypto_generichash(key, 32, (const unsigned char *)secret, strlen(secret), NULL, 0);
    sodium_memzero(secret, strlen(secret));
    free(secret);
    return 0;
}

static int unsub_mac(struct catalog *c, int64_t user_id, char *out, size_t outsz)
{
    unsigned char key[32], mac[crypto_auth_hmacsha256_BYTES];
    char msg[64];

    if (unsub_key(c, key) < 0)
        return -1;
    snprintf(msg, sizeof(msg), "unsubscribe:%lld", (long long)user_id);
    crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg), key);
    sodium_bin2base64(out, outsz, mac, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(key, sizeof(key));
    return 0;
}

int mail_unsubscribe_token(struct catalog *c, int64_t user_id, char *out, size_t outsz)
{
    char mac[64];

    if (outsz < 128 || unsub_mac(c, user_id, mac, sizeof(mac)) < 0)
        return -1;
    snprintf(out, outsz, "%lld.%s", (long long)user_id, mac);
    return 0;
}

/* The user id a token was made for, or 0 if it is not one of ours. */
static int64_t unsub_verify(struct catalog *c, const char *token)
{
    const char *dot = token ? strchr(token, '.') : NULL;
    char idpart[24], mac[64];
    int64_t uid;

    if (!dot || (size_t)(dot - token) >= sizeof(idpart))
        return 0;
    memcpy(idpart, token, (size_t)(dot - token));
    idpart[dot - token] = '\0';
    if (hc_parse_i64(idpart, 1, INT64_MAX, &uid) < 0 || unsub_mac(c, uid, mac, sizeof(mac)) < 0)
        return 0;
    return hc_streq_ct(mac, dot + 1) ? uid : 0;
}

/* ------------------------------------------------------------------------
 * Writing messages to the outbox.
 */
struct msg {
    const char *kind;        /* outbox.kind */
    int64_t     to_user;     /* 0 = not a member (invite) */
    const char *to_addr;
    const char *to_name;
    const char *dedupe;      /* NULL = none */
    int         unsubscribe; /* notification: List-Unsubscribe and footer link */
    char        subject[512];
    struct sbuf text, html;
};

static void msg_subject(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_subject(struct msg *m, const char *fmt, ...)
{
    va_list ap;
    char *flat;

    va_start(ap, fmt);
    vsnprintf(m->subject, sizeof(m->subject), fmt, ap);
    va_end(ap);
    flat = one_line(m->subject);
    hc_strlcpy(m->subject, flat, sizeof(m->subject));
    free(flat);
}

static void msg_begin(struct msg *m, const char *heading, const char *hello)
{
    sb_add(&m->html, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width\"></head>"
                     "<body style=\"margin:0;padding:24px;background:#f4f4f5;"
                     "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#18181b\">"
                     "<div style=\"max-width:560px;margin:0 auto;background:#ffffff;"
                     "border-radius:8px;padding:24px\"><h1 style=\"font-size:20px;margin:0 0 16px\">");
    sb_html(&m->html, heading);
    sb_add(&m->html, "</h1>");
    if (hello && *hello) {
        sb_add(&m->html, "<p>Hello ");
        sb_html(&m->html, hello);
        sb_add(&m->html, ",</p>");
        sb_addf(&m->text, "Hello %s,\n\n", hello);
    }
}

/* A paragraph in both parts. */
static void msg_para(struct msg *m, const char *s)
{
    sb_add(&m->html, "<p>");
    sb_html(&m->html, s);
    sb_add(&m->html, "</p>");
    sb_add(&m->text, s);
    sb_add(&m->text, "\n\n");
}

static void msg_button(struct msg *m, const char *url, const char *label)
{
    sb_add(&m->html, "<p style=\"margin:24px 0\"><a href=\"");
    sb_html(&m->html, url);
    sb_add(&m->html, "\" style=\"background:#4f46e5;color:#ffffff;padding:10px 18px;border-radius:6px;"
                     "text-decoration:none;display:inline-block\">");
    sb_html(&m->html, label);
    sb_add(&m->html, "</a></p>");
    sb_addf(&m->text, "%s:\n%s\n\n", label, url);
}

static void msg_end(struct msg *m)
{
    sb_add(&m->html, "<hr style=\"border:none;border-top:1px solid #e4e4e7;margin:24px 0 12px\">"
                     "<p style=\"font-size:12px;color:#71717a\">Hubcast: one short video update a week, "
                     "from everyone.");
    sb_add(&m->text, "-- \nHubcast: one short video update a week, from everyone.\n");
    if (m->unsubscribe) {
        sb_add(&m->html, " <a href=\"{{unsubscribe}}\" style=\"color:#71717a\">Unsubscribe from all Hubcast mail</a>");
        sb_add(&m->text, "Unsubscribe from all Hubcast mail: {{unsubscribe}}\n");
    }
    sb_add(&m->html, "</p></div></body></html>\n");
}

static void msg_free(struct msg *m)
{
    free(m->text.p);
    free(m->html.p);
    m->text.p = m->html.p = NULL;
}

/* Insert m into the outbox at now. 1 queued, 0 duplicate (dedupe key),
 * -1 catalog error. Frees the message's bodies either way. */
static int msg_put(struct catalog *c, struct msg *m, time_t now)
{
    char *name = one_line(m->to_name);   /* a display name never spans lines */
    int n = cat_exec(c, "INSERT INTO outbox(kind, to_user, to_addr, to_name, subject, body_text, body_html, "
                        "dedupe_key, unsubscribe, next_try, created_at) "
                        "VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING",
                     "sIssssssiII",
                     m->kind, m->to_user, m->to_addr, name, m->subject,
                     m->text.p ? m->text.p : "", m->html.p ? m->html.p : "", m->dedupe,
                     m->unsubscribe, (int64_t)now, (int64_t)now);
    free(name);
    msg_free(m);
    return n < 0 ? -1 : n > 0;
}

/* The user as an object {id, email, name, time_zone}, or NULL. */
static json_t *user_row(struct catalog *c, int64_t id)
{
    return cat_row(c, "SELECT id, email, name, time_zone, notify_updates, unsubscribed, deactivated "
                      "FROM users WHERE id = ?", "I", id);
}

#define JS(o, k) json_string_value(json_object_get((o), (k)))
#define JI(o, k) ((int64_t)json_integer_value(json_object_get((o), (k))))

/* ------------------------------------------------------------------------
 * The messages.
 */
int mail_queue_invite(struct catalog *c, const struct conf *conf, const char *email,
                      const char *name, const char *inviter, const char *url)
{
    struct msg m = { .kind = "invite", .to_addr = email, .to_name = name };
    char line[1024];

    (void)conf;
    msg_subject(&m, "%s invited you to Hubcast", inviter && *inviter ? inviter : "Your team");
    msg_begin(&m, "You are invited to Hubcast", name && *name ? name : NULL);
    snprintf(line, sizeof(line), "%s invited you to share a short video update with your team each week.",
             inviter && *inviter ? inviter : "Your team");
    msg_para(&m, line);
    msg_button(&m, url, "Choose your password");
    msg_para(&m, "The link works for 7 days.");
    msg_end(&m);
    return msg_put(c, &m, hc_now()) < 0 ? -1 : 0;
}

static int queue_reset(struct catalog *c, json_t *u, const char *token, time_t now)
{
    struct msg m = { .kind = "reset", .to_user = JI(u, "id"), .to_addr = JS(u, "email"),
                     .to_name = JS(u, "name") };
    char url[256];

    snprintf(url, sizeof(url), "{{base}}/reset#token=%s", token);
    msg_subject(&m, "Reset your Hubcast password");
    msg_begin(&m, "Reset your password", JS(u, "name"));
    msg_para(&m, "Someone (hopefully you) asked to reset your Hubcast password.");
    msg_button(&m, url, "Choose a new password");
    msg_para(&m, "The link works for one hour. If you did not ask for this, ignore this message: "
                 "your password stays as it is.");
    msg_end(&m);
    return msg_put(c, &m, now);
}

int mail_on_update_ready(struct catalog *c, const struct conf *conf, int64_t update_id)
{
    json_t *up, *rcpts, *r;
    size_t i;
    int allhands, rc = 0;
    time_t now = hc_now();

    (void)conf;
    up = cat_row(c, "SELECT u.id, u.kind, u.title, u.iso_week, u.author_id, a.name AS author "
                    "FROM updates u JOIN users a ON a.id = u.author_id WHERE u.id = ?", "I", update_id);
    if (!up)
        return 0;
    allhands = !strcmp(JS(up, "kind"), "allhands");
    rcpts = allhands
        ? cat_rows(c, "SELECT id, email, name FROM users WHERE deactivated = 0 AND unsubscribed = 0 "
                      "AND id != ? ORDER BY id", "I", JI(up, "author_id"))
        : cat_rows(c, "SELECT id, email, name FROM users WHERE deactivated = 0 AND unsubscribed = 0 "
                      "AND notify_updates = 'immediate' AND id != ? ORDER BY id", "I", JI(up, "author_id"));
    json_array_foreach(rcpts, i, r) {
        struct msg m = { .kind = allhands ? "allhands" : "update", .to_user = JI(r, "id"),
                         .to_addr = JS(r, "email"), .to_name = JS(r, "name"), .unsubscribe = 1 };
        char dedupe[96], url[96], line[1024];
        const char *title = *JS(up, "title") ? JS(up, "title") : NULL;

        snprintf(dedupe, sizeof(dedupe), "update:%lld:%lld", (long long)update_id, (long long)JI(r, "id"));
        snprintf(url, sizeof(url), "{{base}}/watch/%lld", (long long)update_id);
        m.dedupe = dedupe;
        if (allhands)
            msg_subject(&m, "All-hands from %s%s%s", JS(up, "author"), title ? ": " : "", title ? title : "");
        else
            msg_subject(&m, "%s posted their weekly update%s%s", JS(up, "author"), title ? ": " : "",
                        title ? title : "");
        msg_begin(&m, allhands ? "A new all-hands update" : "A new weekly update", JS(r, "name"));
        if (allhands)
            snprintf(line, sizeof(line), "%s shared an all-hands update for everyone%s%s%s.", JS(up, "author"),
                     title ? ": \xe2\x80\x9c" : "", title ? title : "", title ? "\xe2\x80\x9d" : "");
        else
            snprintf(line, sizeof(line), "%s shared their update for %s%s%s%s.", JS(up, "author"),
                     JS(up, "iso_week"), title ? ": \xe2\x80\x9c" : "", title ? title : "",
                     title ? "\xe2\x80\x9d" : "");
        msg_para(&m, line);
        msg_button(&m, url, "Watch it");
        msg_end(&m);
        if (msg_put(c, &m, now) < 0) {
            rc = -1;
            break;
        }
    }
    json_decref(rcpts);
    json_decref(up);
    return rc;
}

int mail_on_comment(struct catalog *c, const struct conf *conf, int64_t comment_id)
{
    json_t *cm;
    int rc = 0;

    (void)conf;
    cm = cat_row(c, "SELECT c.id, c.body, c.update_id, c.user_id, w.name AS commenter, u.title, "
                    "u.author_id, a.email, a.name, a.deactivated, a.unsubscribed "
                    "FROM comments c JOIN users w ON w.id = c.user_id JOIN updates u ON u.id = c.update_id "
                    "JOIN users a ON a.id = u.author_id WHERE c.id = ?", "I", comment_id);
    if (cm && JI(cm, "user_id") != JI(cm, "author_id") && !JI(cm, "deactivated") && !JI(cm, "unsubscribed")) {
        struct msg m = { .kind = "comment", .to_user = JI(cm, "author_id"), .to_addr = JS(cm, "email"),
                         .to_name = JS(cm, "name"), .unsubscribe = 1 };
        char dedupe[64], url[128], line[512];

        snprintf(dedupe, sizeof(dedupe), "comment:%lld", (long long)comment_id);
        snprintf(url, sizeof(url), "{{base}}/watch/%lld#comment-%lld", (long long)JI(cm, "update_id"),
                 (long long)comment_id);
        m.dedupe = dedupe;
        msg_subject(&m, "%s commented on your update%s%s", JS(cm, "commenter"),
                    *JS(cm, "title") ? ": " : "", JS(cm, "title"));
        msg_begin(&m, "A new comment on your update", JS(cm, "name"));
        snprintf(line, sizeof(line), "%s wrote:", JS(cm, "commenter"));
        msg_para(&m, line);
        sb_add(&m.html, "<blockquote style=\"margin:0;padding:8px 16px;border-left:3px solid #e4e4e7\">");
        sb_html(&m.html, JS(cm, "body"));
        sb_add(&m.html, "</blockquote>");
        sb_addf(&m.text, "> %s\n\n", JS(cm, "body"));
        msg_button(&m, url, "Reply");
        msg_end(&m);
        rc = msg_put(c, &m, hc_now()) < 0 ? -1 : 0;
    }
    json_decref(cm);
    return rc;
}

int mail_queue_reminder(struct catalog *c, int64_t user_id, const char *week, int nth, time_t now)
{
    json_t *u = user_row(c, user_id);
    struct msg m = { .kind = "reminder", .to_user = user_id, .unsubscribe = 1 };
    char dedupe[96], line[512];
    int64_t posted, active;
    int rc;

    if (!u)
        return 0;
    m.to_addr = JS(u, "email");
    m.to_name = JS(u, "name");
    snprintf(dedupe, sizeof(dedupe), "reminder:%lld:%s:%d", (long long)user_id, week, nth);
    m.dedupe = dedupe;
    posted = cat_int(c, 0, "SELECT COUNT(DISTINCT author_id) FROM updates u JOIN users a ON a.id = u.author_id "
                           "WHERE u.iso_week = ? AND u.status IN ('queued', 'processing', 'ready') "
                           "AND a.deactivated = 0", "s", week);
    active = cat_int(c, 0, "SELECT COUNT(*) FROM users WHERE deactivated = 0", "");
    if (nth == 1) {
        msg_subject(&m, "Time for your weekly update (%s)", week);
        msg_begin(&m, "Time for your weekly update", JS(u, "name"));
        msg_para(&m, "Take two minutes to share where things are and where they are going: "
                     "record a short video for your team.");
    } else {
        msg_subject(&m, "A gentle nudge: your update for %s", week);
        msg_begin(&m, "Still time to share your update", JS(u, "name"));
        msg_para(&m, "No pressure: if you have a couple of minutes today, your team would love to hear "
                     "how your week went.");
    }
    snprintf(line, sizeof(line), "%lld of %lld people have posted for %s so far.",
             (long long)posted, (long long)active, week);
    msg_para(&m, line);
    msg_button(&m, "{{base}}/record", "Record your update");
    msg_end(&m);
    rc = msg_put(c, &m, now);
    json_decref(u);
    return rc;
}

/* Updates as a list in both parts: title, poster, author, link. */
static void list_updates(struct msg *m, json_t *ups)
{
    size_t i;
    json_t *p;

    json_array_foreach(ups, i, p) {
        char url[96];
        const char *title = *JS(p, "title") ? JS(p, "title") : "Weekly update";
        int ah = !strcmp(JS(p, "kind"), "allhands");

        snprintf(url, sizeof(url), "{{base}}/watch/%lld", (long long)JI(p, "id"));
        sb_add(&m->html, "<table role=\"presentation\" style=\"margin:0 0 12px\"><tr><td style=\"padding-right:12px\">"
                         "<a href=\"");
        sb_html(&m->html, url);
        sb_addf(&m->html, "\"><img src=\"{{base}}{{poster:%lld}}\" width=\"120\" alt=\"\" "
                          "style=\"border-radius:4px;display:block\"></a></td><td><a href=\"", (long long)JI(p, "id"));
        sb_html(&m->html, url);
        sb_add(&m->html, "\" style=\"font-weight:600;color:#18181b\">");
        if (ah)
            sb_add(&m->html, "All-hands: ");
        sb_html(&m->html, title);
        sb_add(&m->html, "</a><br><span style=\"color:#71717a\">");
        sb_html(&m->html, JS(p, "author"));
        sb_add(&m->html, "</span></td></tr></table>");
        sb_addf(&m->text, "* %s%s - %s\n  %s\n", ah ? "All-hands: " : "", title, JS(p, "author"), url);
    }
    sb_add(&m->text, "\n");
}

int mail_queue_weekly_digest(struct catalog *c, int64_t user_id, const char *week, time_t now)
{
    json_t *u = user_row(c, user_id), *ups;
    struct msg m = { .kind = "digest", .to_user = user_id, .unsubscribe = 1 };
    char dedupe[96], line[512];
    int64_t posted, active;
    int rc;

    if (!u)
        return 0;
    m.to_addr = JS(u, "email");
    m.to_name = JS(u, "name");
    snprintf(dedupe, sizeof(dedupe), "digest:%lld:%s", (long long)user_id, week);
    m.dedupe = dedupe;
    ups = cat_rows(c, "SELECT p.id, p.kind, p.title, a.name AS author FROM updates p "
                      "JOIN users a ON a.id = p.author_id WHERE p.iso_week = ? AND p.status = 'ready' "
                      "ORDER BY p.kind = 'allhands' DESC, a.name COLLATE NOCASE, p.id", "s", week);
    posted = cat_int(c, 0, "SELECT COUNT(DISTINCT author_id) FROM updates p JOIN users a ON a.id = p.author_id "
                           "WHERE p.iso_week = ? AND p.status IN ('queued', 'processing', 'ready') "
                           "AND a.deactivated = 0", "s", week);
    active = cat_int(c, 0, "SELECT COUNT(*) FROM users WHERE deactivated = 0", "");
    msg_subject(&m, "Hubcast weekly digest %s: %lld of %lld posted (%d%%)", week, (long long)posted,
                (long long)active, active ? (int)(posted * 100 / active) : 0);
    msg_begin(&m, "Last week on Hubcast", JS(u, "name"));
    snprintf(line, sizeof(line), "Participation for %s: %lld of %lld people posted (%d%%).", week,
             (long long)posted, (long long)active, active ? (int)(posted * 100 / active) : 0);
    msg_para(&m, line);
    if (json_array_size(ups))
        list_updates(&m, ups);
    else
        msg_para(&m, "Nobody posted last week. Be the first this week!");
    msg_button(&m, "{{base}}/record", "Record this week's update");
    msg_end(&m);
    rc = msg_put(c, &m, now);
    json_decref(ups);
    json_decref(u);
    return rc;
}

int mail_queue_daily_digest(struct catalog *c, int64_t user_id, const char *date,
                            time_t from, time_t to, time_t now)
{
    json_t *u = user_row(c, user_id), *ups;
    struct msg m = { .kind = "daily", .to_user = user_id, .unsubscribe = 1 };
    char dedupe[96];
    int rc = 0;

    if (!u)
        return 0;
    ups = cat_rows(c, "SELECT p.id, p.kind, p.title, a.name AS author FROM updates p "
                      "JOIN users a ON a.id = p.author_id WHERE p.kind = 'weekly' AND p.status = 'ready' "
                      "AND p.author_id != ? AND p.ready_at >= ? AND p.ready_at < ? "
                      "ORDER BY a.name COLLATE NOCASE, p.id", "III", user_id, (int64_t)from, (int64_t)to);
    if (json_array_size(ups)) {
        m.to_addr = JS(u, "email");
        m.to_name = JS(u, "name");
        snprintf(dedupe, sizeof(dedupe), "daily:%lld:%s", (long long)user_id, date);
        m.dedupe = dedupe;
        msg_subject(&m, "New on Hubcast: %zu update%s from your team", json_array_size(ups),
                    json_array_size(ups) == 1 ? "" : "s");
        msg_begin(&m, "New updates from your team", JS(u, "name"));
        list_updates(&m, ups);
        msg_end(&m);
        rc = msg_put(c, &m, now);
    }
    json_decref(ups);
    json_decref(u);
    return rc;
}

static int queue_test(struct catalog *c, const struct user *u, time_t now)
{
    struct msg m = { .kind = "test", .to_user = u->id, .to_addr = u->email, .to_name = u->name };

    msg_subject(&m, "Hubcast test message");
    msg_begin(&m, "Mail from Hubcast works", u->name);
    msg_para(&m, "This is the test message you asked for on the admin page. "
                 "Invites, reminders and digests will arrive the same way.");
    msg_button(&m, "{{base}}/", "Open Hubcast");
    msg_end(&m);
    return msg_put(c, &m, now);
}

/* ------------------------------------------------------------------------
 * Delivery configuration: the settings table overrides the config.
 */
struct smtp_cfg {
    char url[512];          /* smtp:// or smtps://, may hold user:pass */
    char from_addr[256];    /* envelope and header address */
    char from_name[256];    /* display name (UTF-8) */
    char domain[256];       /* right-hand side of Message-IDs */
    char base[512];         /* public URL without a trailing slash */
    int  allow_plaintext;   /* smtp:// without STARTTLS to a remote host */
    char ca[1024];          /* CA bundle for the server's certificate, or "" */
    int  retry_base;        /* seconds before the first retry */
};

static void trim_copy(char *dst, size_t dstsz, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
        s++, n -= 2;
    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* "Name <addr>" or "addr" into its two halves. */
static void parse_from(const char *from, char *name, size_t namesz, char *addr, size_t addrsz)
{
    const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;

    if (lt && gt) {
        trim_copy(name, namesz, from, (size_t)(lt - from));
        trim_copy(addr, addrsz, lt + 1, (size_t)(gt - lt - 1));
    } else {
        name[0] = '\0';
        trim_copy(addr, addrsz, from, strlen(from));
    }
}

static void load_cfg(struct catalog *c, const struct conf *conf, struct smtp_cfg *s)
{
    char *url = cat_setting(c, "smtp_url"), *from = cat_setting(c, "mail_from");
    char *base = cat_setting(c, "mail_retry_base"), *at;
    long rb = 30;
    size_t n;

    memset(s, 0, sizeof(*s));
    hc_strlcpy(s->url, url && *url ? url : conf->smtp_url, sizeof(s->url));
    parse_from(from && *from ? from : conf->mail_from, s->from_name, sizeof(s->from_name),
               s->from_addr, sizeof(s->from_addr));
    n = hc_strlcpy(s->base, conf->public_url[0] ? conf->public_url : "http://localhost:8080", sizeof(s->base));
    while (n && s->base[n - 1] == '/')
        s->base[--n] = '\0';
    if (!s->from_addr[0])
        hc_strlcpy(s->from_addr, "hubcast@localhost", sizeof(s->from_addr));
    if (!s->from_name[0])
        hc_strlcpy(s->from_name, "Hubcast", sizeof(s->from_name));
    at = strrchr(s->from_addr, '@');
    hc_strlcpy(s->domain, at && at[1] ? at + 1 : "hubcast.invalid", sizeof(s->domain));
    s->allow_plaintext = conf->smtp_allow_plaintext;
    hc_strlcpy(s->ca, conf->smtp_ca, sizeof(s->ca));
    if (base && hc_parse_long(base, 1, MAIL_RETRY_MAX, &rb) < 0)
        rb = 30;
    s->retry_base = (int)rb;
    free(url);
    free(from);
    free(base);
}

/* Is the host of an smtp:// URL a loopback address? */
static int url_is_loopback(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    int lo = 0;

    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host)
        lo = !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "[::1]") ||
             !strcmp(host, "::1");
    curl_free(host);
    curl_url_cleanup(u);
    return lo;
}

/* ------------------------------------------------------------------------
 * SMTP delivery of one outbox row.
 */
static atomic_int mail_stopping;

/* Abort only while connecting: once the connection is up the message is
 * finished, so that stopping never leaves it delivered-but-unmarked. */
static int prereq_cb(void *p, char *conn_ip, char *local_ip, int conn_port, int local_port)
{
    (void)conn_ip;
    (void)local_ip;
    (void)conn_port;
    (void)local_port;
    *(int *)p = 1;
    return CURL_PREREQFUNC_OK;
}

static int xfer_cb(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load(&mail_stopping) && !*(int *)p;
}

/* s (malloc'd, taken) with every bare LF made CRLF, as MIME wants line
 * breaks: curl's quoted-printable encoder then keeps them as breaks. */
static char *crlf(char *s)
{
    struct sbuf b = { 0 };

    for (const char *p = s; *p; p++) {
        if (*p == '\n' && (p == s || p[-1] != '\r'))
            sb_addn(&b, "\r", 1);
        sb_addn(&b, p, 1);
    }
    sb_addn(&b, "", 0);
    free(s);
    return b.p;
}

/* Replace {{base}} and {{unsubscribe}}, with CRLF line breaks; returns a
 * malloc'd string. */
static char *expand(const char *body, const char *base, const char *unsub)
{
    struct sbuf b = { 0 };
    const char *p = body, *q;

    while ((q = strstr(p, "{{"))) {
        sb_addn(&b, p, (size_t)(q - p));
        if (!strncmp(q, "{{base}}", 8)) {
            sb_add(&b, base);
            p = q + 8;
        } else if (!strncmp(q, "{{unsubscribe}}", 15)) {
            sb_add(&b, unsub);
            p = q + 15;
        } else if (!strncmp(q, "{{poster:", 9) && strstr(q, "}}")) {
            /* A poster a mail client can load without a session: a signed
             * link that lasts as long as a digest is worth reading. */
            char idstr[24], url[300];
            const char *end = strstr(q, "}}");
            int64_t id;
            size_t n = (size_t)(end - (q + 9));
            if (n < sizeof(idstr)) {
                memcpy(idstr, q + 9, n);
                idstr[n] = '\0';
                if (hc_parse_i64(idstr, 1, INT64_MAX, &id) == 0) {
                    media_url_ttl(id, "poster.jpg", MEDIA_MAIL_TTL, url, sizeof(url));
                    sb_add(&b, url);
                }
            }
            p = end + 2;
        } else {
            sb_addn(&b, q, 2);
            p = q + 2;
        }
    }
    sb_add(&b, p);
    return crlf(b.p);
}

static void date_header(time_t t, char *out, size_t outsz)
{
    static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(out, outsz, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday,
             mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "Name: <encoded phrase> <addr>" appended to the header list. */
static struct curl_slist *addr_header(struct curl_slist *h, const char *field, const char *name,
                                      const char *addr)
{
    struct sbuf b = { 0 };

    sb_addf(&b, "%s: ", field);
    if (name && *name) {
        char *enc = mail_header_encode(name, 1);
        sb_addf(&b, "%s <%s>", enc, addr);
        free(enc);
    } else {
        sb_add(&b, addr);
    }
    h = curl_slist_append(h, b.p);
    free(b.p);
    return h;
}

static curl_mimepart *add_text_part(curl_mime *mime, const char *data, const char *type)
{
    curl_mimepart *part = curl_mime_addpart(mime);

    curl_mime_data(part, data, CURL_ZERO_TERMINATED);
    curl_mime_type(part, type);
    curl_mime_encoder(part, "quoted-printable");
    curl_mime_headers(part, curl_slist_append(NULL, "Content-Disposition: inline"), 1);
    return part;
}

enum send_result { SEND_OK = 0, SEND_RETRY = -1, SEND_PERMANENT = -2, SEND_STOPPED = -3 };

/*
 * Send one row. On failure err holds a sentence and *server_answered says
 * whether the SMTP server refused (per-message) rather than being out of
 * reach (the whole queue waits). Nothing here touches the catalog.
 */
static enum send_result smtp_send(const struct smtp_cfg *s, json_t *row, const char *unsub_url,
                                  char *err, size_t errsz, int *server_answered)
{
    const char *to = JS(row, "to_addr"), *to_name = JS(row, "to_name"), *subject = JS(row, "subject");
    char line[1200], *text = NULL, *html = NULL, *subj = NULL;
    char curl_err[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdr = NULL, *rcpt = NULL;
    curl_mime *mime = NULL, *alt;
    CURL *h = NULL;
    enum send_result res = SEND_RETRY;
    long code = 0;
    int connected = 0;
    CURLcode cc;

    *server_answered = 0;
    /* Every value that ends up in a header line: no CR or LF, ever. */
    if (hc_has_crlf(to) || hc_has_crlf(s->from_addr) || hc_has_crlf(unsub_url) || hc_has_crlf(s->domain) ||
        hc_has_crlf(subject) || hc_has_crlf(to_name) || hc_has_crlf(s->from_name) || strpbrk(to, "<>") ||
        strpbrk(s->from_addr, "<>")) {
        snprintf(err, errsz, "refused: a header value holds CR, LF or angle brackets");
        return SEND_PERMANENT;
    }
    if (!(h = curl_easy_init())) {
        snprintf(err, errsz, "cannot start libcurl");
        return SEND_RETRY;
    }
    text = expand(JS(row, "body_text"), s->base, unsub_url ? unsub_url : "");
    html = expand(JS(row, "body_html"), s->base, unsub_url ? unsub_url : "");
    subj = mail_header_encode(subject, 0);

    date_header(hc_now(), line, sizeof(line));
    hdr = curl_slist_append(hdr, line);
    hdr = addr_header(hdr, "From", s->from_name, s->from_addr);
    hdr = addr_header(hdr, "To", to_name, to);
    snprintf(line, sizeof(line), "Subject: %s", subj);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof(line), "Message-ID: <hubcast.%lld.%lld@%s>", (long long)JI(row, "id"),
             (long long)JI(row, "created_at"), s->domain);
    hdr = curl_slist_append(hdr, line);
    hdr = curl_slist_append(hdr, "Auto-Submitted: auto-generated");
    if (unsub_url) {
        snprintf(line, sizeof(line), "List-Unsubscribe: <%s>", unsub_url);
        hdr = curl_slist_append(hdr, line);
        hdr = curl_slist_append(hdr, "List-Unsubscribe-Post: List-Unsubscribe=One-Click");
    }
    snprintf(line, sizeof(line), "<%s>", to);
    rcpt = curl_slist_append(rcpt, line);

    mime = curl_mime_init(h);
    alt = curl_mime_init(h);
    add_text_part(alt, text, "text/plain; charset=utf-8");
    if (*html)
        add_text_part(alt, html, "text/html; charset=utf-8");
    {
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_subparts(part, alt);
        curl_mime_type(part, "multipart/alternative");
        curl_mime_headers(part, curl_slist_append(NULL, "Content-Disposition: inline"), 1);
    }

    snprintf(line, sizeof(line), "<%s>", s->from_addr);
    curl_easy_setopt(h, CURLOPT_URL, s->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, line);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_cb);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &connected);
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, prereq_cb);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, &connected);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
    if (s->ca[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, s->ca);
    if (!strncmp(s->url, "smtp://", 7))
        curl_easy_setopt(h, CURLOPT_USE_SSL, url_is_loopback(s->url) ? (long)CURLUSESSL_NONE
                                             : s->allow_plaintext ? (long)CURLUSESSL_TRY
                                                                  : (long)CURLUSESSL_ALL);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (cc == CURLE_OK) {
        res = SEND_OK;
    } else if (cc == CURLE_ABORTED_BY_CALLBACK) {
        res = SEND_STOPPED;
        snprintf(err, errsz, "hubcast stopped before the message was sent");
    } else {
        /* A 4xx/5xx answer is about this message; no answer means the
         * server is out of reach. Both are retried until the row is 24 h old. */
        *server_answered = code >= 400;
        snprintf(err, errsz, "%s%s%s (SMTP %ld)", curl_easy_strerror(cc), curl_err[0] ? ": " : "",
                 curl_err, code);
    }
    curl_mime_free(mime);
    curl_slist_free_all(hdr);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(h);
    free(text);
    free(html);
    free(subj);
    return res;
}

/* Should a queued notification no longer go out? (recipient unsubscribed
 * or left; a reminder for a week they have since posted in) */
static const char *stale_reason(struct catalog *c, json_t *row)
{
    int64_t uid = JI(row, "to_user");
    const char *kind = JS(row, "kind"), *key = JS(row, "dedupe_key");
    json_t *u;
    const char *why = NULL;

    if (!uid || !JI(row, "unsubscribe"))
        return NULL;
    u = user_row(c, uid);
    if (!u || JI(u, "deactivated"))
        why = "cancelled: the recipient's account is deactivated";
    else if (JI(u, "unsubscribed"))
        why = "cancelled: the recipient unsubscribed";
    else if (!strcmp(kind, "reminder") && key) {
        char week[16] = "";
        const char *p = strchr(key + 9, ':');     /* "reminder:<uid>:<week>:<n>" */
        if (p && strlen(p + 1) >= 8) {
            memcpy(week, p + 1, 8);
            week[8] = '\0';
            if (cat_int(c, 0, "SELECT COUNT(*) FROM updates WHERE author_id = ? AND iso_week = ? "
                              "AND status IN ('queued', 'processing', 'ready')", "Is", uid, week))
                why = "cancelled: the recipient has posted since";
        }
    }
    json_decref(u);
    return why;
}

/* Claim the next due row: marked claimed in its own committed transaction
 * before any byte goes to the SMTP server. NULL if nothing is due. */
static json_t *claim_next(struct catalog *c, time_t now)
{
    json_t *row;

    if (cat_begin(c) < 0)
        return NULL;
    row = cat_row(c, "SELECT id, kind, to_user, to_addr, to_name, subject, body_text, body_html, dedupe_key, "
                     "unsubscribe, attempts, created_at FROM outbox WHERE state = 'pending' AND claimed_at IS NULL "
                     "AND next_try <= ? ORDER BY next_try, id LIMIT 1", "I", (int64_t)now);
    if (!row ||
        cat_exec(c, "UPDATE outbox SET claimed_at = ?, attempts = attempts + 1 WHERE id = ?", "II",
                 (int64_t)now, JI(row, "id")) != 1 ||
        cat_commit(c) < 0) {
        cat_rollback(c);
        json_decref(row);
        return NULL;
    }
    return row;
}

/*
 * Deliver one due row. Returns 1 if a row was handled (try the next one
 * now), 0 if nothing is due, and sets *pause_until when the server is out
 * of reach so the whole queue waits.
 */
static int deliver_one(struct catalog *c, const struct smtp_cfg *s, time_t *pause_until)
{
    time_t now = hc_now();
    json_t *row = claim_next(c, now);
    char err[512] = "", unsub[700], token[160];
    const char *why;
    enum send_result r;
    int answered = 0;
    int64_t id;

    if (!row)
        return 0;
    id = JI(row, "id");
    if ((why = stale_reason(c, row))) {
        cat_exec(c, "UPDATE outbox SET state = 'failed', claimed_at = NULL, last_error = ? WHERE id = ?",
                 "sI", why, id);
        json_decref(row);
        return 1;
    }
    unsub[0] = '\0';
    if (JI(row, "unsubscribe") && JI(row, "to_user") &&
        mail_unsubscribe_token(c, JI(row, "to_user"), token, sizeof(token)) == 0)
        snprintf(unsub, sizeof(unsub), "%s/api/unsubscribe?token=%s", s->base, token);
    r = smtp_send(s, row, unsub[0] ? unsub : NULL, err, sizeof(err), &answered);
    now = hc_now();
    if (r == SEND_STOPPED) {
        /* Not an attempt: nothing reached the server. */
        cat_exec(c, "UPDATE outbox SET claimed_at = NULL, attempts = attempts - 1 WHERE id = ?", "I", id);
        json_decref(row);
        return 0;
    } else if (r == SEND_OK) {
        /* The window: delivered, not yet marked. Nothing else happens here. */
        cat_exec(c, "UPDATE outbox SET state = 'sent', sent_at = ?, claimed_at = NULL, last_error = '' "
                    "WHERE id = ?", "II", (int64_t)now, id);
    } else if (r == SEND_PERMANENT || now - (time_t)JI(row, "created_at") >= MAIL_RETRY_FOR) {
        cat_exec(c, "UPDATE outbox SET state = 'failed', claimed_at = NULL, last_error = ? WHERE id = ?",
                 "sI", err, id);
        hc_log("mail: gave up on message %lld to %s: %s", (long long)id, JS(row, "to_addr"), err);
    } else {
        int64_t attempts = JI(row, "attempts") + 1, delay = s->retry_base;
        while (--attempts > 0 && delay < MAIL_RETRY_MAX)
            delay *= 2;
        if (delay > MAIL_RETRY_MAX)
            delay = MAIL_RETRY_MAX;
        cat_exec(c, "UPDATE outbox SET claimed_at = NULL, next_try = ?, last_error = ? WHERE id = ?",
                 "IsI", (int64_t)now + delay, err, id);
        hc_log("mail: message %lld to %s not sent (%s); next try in %lld s", (long long)id,
               JS(row, "to_addr"), err, (long long)delay);
        if (!answered) {
            *pause_until = now + delay;
            json_decref(row);
            return 0;
        }
    }
    json_decref(row);
    return 1;
}

/* ------------------------------------------------------------------------
 * The delivery thread.
 */
static pthread_t mail_thread;
static pthread_mutex_t mail_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mail_wake = PTHREAD_COND_INITIALIZER;
static int mail_running;

static void *mail_run(void *arg)
{
    const struct conf *conf = arg;
    char err[512], path[1100];
    struct catalog *c;
    struct timespec ts;
    time_t pause_until = 0;
    int n;

    catalog_path(conf->data_dir, path, sizeof(path));
    if (!(c = catalog_open(path, 0, err, sizeof(err)))) {
        hc_log("mail: %s", err);
        return NULL;
    }
    /* Rows claimed by a process that died: send them again (see the top). */
    n = cat_exec(c, "UPDATE outbox SET claimed_at = NULL WHERE state = 'pending' AND claimed_at IS NOT NULL", "");
    if (n > 0)
        hc_log("mail: %d message(s) were being sent when hubcast stopped; sending them again", n);
    while (!atomic_load(&mail_stopping)) {
        struct smtp_cfg s;

        load_cfg(c, conf, &s);
        if (s.url[0] && hc_now() >= pause_until)
            while (!atomic_load(&mail_stopping) && deliver_one(c, &s, &pause_until) == 1)
                ;
        pthread_mutex_lock(&mail_lock);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        if (!atomic_load(&mail_stopping))
            pthread_cond_timedwait(&mail_wake, &mail_lock, &ts);
        pthread_mutex_unlock(&mail_lock);
    }
    catalog_close(c);
    return NULL;
}

int mail_start(const struct conf *conf)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    atomic_store(&mail_stopping, 0);
    if (pthread_create(&mail_thread, NULL, mail_run, (void *)conf) != 0)
        return -1;
    mail_running = 1;
    if (!conf->smtp_url[0])
        hc_log("mail: no SMTP URL configured; mail is queued but not sent until one is set");
    return 0;
}

void mail_stop(void)
{
    if (!mail_running)
        return;
    pthread_mutex_lock(&mail_lock);
    atomic_store(&mail_stopping, 1);
    pthread_cond_signal(&mail_wake);
    pthread_mutex_unlock(&mail_lock);
    pthread_join(mail_thread, NULL);
    mail_running = 0;
}

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
        parse_from(from, n, sizeof(n), a, sizeof(a));
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

    if (queue_test(r->cat, &r->user, hc_now()) < 0)
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
            if (auth_invite_create(r->cat, "reset", JS(u, "email"), JS(u, "name"), JS(u, "role"), 0,
                                   RESET_TTL, token, sizeof(token)) < 0 ||
                queue_reset(r->cat, u, token, now) < 0 || cat_commit(r->cat) < 0)
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
    const char *token, *pw, *problem;
    char hash[crypto_pwhash_STRBYTES];
    json_t *body = http_body_json(r, o), *inv = NULL;
    int64_t now = (int64_t)hc_now(), uid;
    int st;

    if (!body)
        return o->status;
    if ((st = api_only_keys(body, keys, o)) || (st = api_str_field(body, "token", 1, 128, &token, o)) ||
        (st = api_str_field(body, "password", 1, 1024, &pw, o)))
        goto out;
    if ((problem = auth_password_problem(pw))) {
        st = http_error(o, 400, "bad_password", "%s", problem);
        goto out;
    }
    if (auth_hash_password(pw, hash, sizeof(hash)) < 0) {
        st = http_error(o, 500, "internal", "could not store the password");
        goto out;
    }
    if (cat_begin(r->cat) < 0) {
        st = http_error(o, 503, "busy", "the catalog is busy; try again");
        goto out;
    }
    inv = auth_invite_find(r->cat, token, "reset");
    uid = inv ? cat_int(r->cat, 0, "SELECT id FROM users WHERE email = ? AND deactivated = 0", "s",
                        JS(inv, "email")) : 0;
    if (!uid) {
        cat_rollback(r->cat);
        st = http_error(o, 410, "link_expired", "this link has expired or was already used; ask for a new one");
        goto out;
    }
    if (cat_exec(r->cat, "UPDATE users SET password_hash = ? WHERE id = ?", "sI", hash, uid) != 1 ||
        cat_exec(r->cat, "UPDATE invites SET used_at = ? WHERE id = ?", "II", now, JI(inv, "id")) != 1 ||
        /* Every session and every other reset link of this person ends. */
        cat_exec(r->cat, "DELETE FROM sessions WHERE user_id = ?", "I", uid) < 0 ||
        cat_exec(r->cat, "UPDATE invites SET used_at = ? WHERE purpose = 'reset' AND used_at IS NULL "
                         "AND email = (SELECT email FROM users WHERE id = ?)", "II", now, uid) < 0 ||
        cat_commit(r->cat) < 0) {
        cat_rollback(r->cat);
        st = http_error(o, 500, "internal", "could not change the password");
        goto out;
    }
    st = http_json(o, 200, json_pack("{s:b}", "reset", 1));
out:
    json_decref(inv);
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
    int64_t uid = token ? unsub_verify(r->cat, token) : 0;
    int post = !strcmp(r->method, "POST");
    json_t *u;

    if (!uid || !(u = user_row(r->cat, uid))) {
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
