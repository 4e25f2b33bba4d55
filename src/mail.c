/*
 * mail.c - every message Hubcast sends, written to the outbox: invites,
 * password resets, new and all-hands updates, reminders, digests,
 * comments, the admin's test mail. Delivery is in mail_send.c, the HTTP
 * side (admin outbox and settings, resets, unsubscribe) in mail_api.c.
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
#include "habit.h"
#include "isoweek.h"
#include "mail.h"
#include "media.h"
#include "mail_int.h"
#include "util.h"


/* ------------------------------------------------------------------------
 * A growing string. Allocation failure aborts (hc_realloc), so none of
 * these can fail and a caller only ever frees b->p.
 */

void sb_addn(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = hc_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sb_add(struct sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

void sb_addf(struct sbuf *b, const char *fmt, ...)
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
void sb_html(struct sbuf *b, const char *s)
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
int64_t mail_unsub_verify(struct catalog *c, const char *token)
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
json_t *mail_user_row(struct catalog *c, int64_t id)
{
    return cat_row(c, "SELECT id, email, name, time_zone, notify_updates, unsubscribed, deactivated "
                      "FROM users WHERE id = ?", "I", id);
}


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

int mail_queue_reset(struct catalog *c, json_t *u, const char *token, time_t now)
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

/* The week's participation as the participation page counts it, on the
 * recipient's clock. */
static void participation(struct catalog *c, const char *week, const char *tz,
                          int64_t *posted, int64_t *active)
{
    *posted = *active = 0;
    habit_week_counts(c, week, hc_iso_week_end(week, tz && *tz ? tz : "UTC"), posted, active);
}

int mail_queue_reminder(struct catalog *c, int64_t user_id, const char *week, int nth, time_t now)
{
    json_t *u = mail_user_row(c, user_id);
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
    participation(c, week, JS(u, "time_zone"), &posted, &active);
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
    json_t *u = mail_user_row(c, user_id), *ups;
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
    participation(c, week, JS(u, "time_zone"), &posted, &active);
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
    json_t *u = mail_user_row(c, user_id), *ups;
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

int mail_queue_test(struct catalog *c, const struct user *u, time_t now)
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
