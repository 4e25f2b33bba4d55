/*
 * mail.c - every message Hubcast sends, written to the outbox: invites,
 * password resets, new and all-hands updates, reminders, digests (with
 * the check-in answers), comments, mentions, the admin's test mail.
 * Delivery is in mail_send.c, the HTTP side (admin outbox and settings,
 * resets, unsubscribe) in mail_api.c. Each message is written in its
 * recipient's language (users.lang): the words come from the table in
 * mail_text.c.
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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "catalog.h"
#include "conf.h"
#include "db_habit.h"
#include "db_outbox.h"
#include "db_settings.h"
#include "db_social.h"
#include "db_updates.h"
#include "habit.h"
#include "isoweek.h"
#include "mail.h"
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
    char fresh[64], *secret = NULL;
    int rc;

    hc_random_token(fresh, sizeof(fresh), 32);
    rc = db_setting_get_or_init(c, "mail_secret", fresh, &secret);
    sodium_memzero(fresh, sizeof(fresh));
    if (rc != DB_OK) {
        free(secret);
        return rc < 0 ? rc : DB_ERROR;
    }
    crypto_generichash(key, 32, (const unsigned char *)secret, strlen(secret), NULL, 0);
    sodium_memzero(secret, strlen(secret));
    free(secret);
    return DB_OK;
}

static int unsub_mac(struct catalog *c, int64_t user_id, char *out, size_t outsz)
{
    unsigned char key[32], mac[crypto_auth_hmacsha256_BYTES];
    char msg[64];
    int rc;

    if ((rc = unsub_key(c, key)) < 0)
        return rc;
    snprintf(msg, sizeof(msg), "unsubscribe:%lld", (long long)user_id);
    crypto_auth_hmacsha256(mac, (const unsigned char *)msg, strlen(msg), key);
    sodium_bin2base64(out, outsz, mac, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(key, sizeof(key));
    return DB_OK;
}

int mail_unsubscribe_token(struct catalog *c, int64_t user_id, char *out, size_t outsz)
{
    char mac[64];
    int rc;

    if (outsz < 128)
        return DB_INVALID;
    if ((rc = unsub_mac(c, user_id, mac, sizeof(mac))) < 0)
        return rc;
    snprintf(out, outsz, "%lld.%s", (long long)user_id, mac);
    return DB_OK;
}

int mail_unsub_verify(struct catalog *c, const char *token, int64_t *uid)
{
    const char *dot = token ? strchr(token, '.') : NULL;
    char idpart[24], mac[64];
    int64_t id;
    int rc;

    *uid = 0;
    if (!dot || (size_t)(dot - token) >= sizeof(idpart))
        return DB_NOTFOUND;
    memcpy(idpart, token, (size_t)(dot - token));
    idpart[dot - token] = '\0';
    if (hc_parse_i64(idpart, 1, INT64_MAX, &id) < 0)
        return DB_NOTFOUND;
    if ((rc = unsub_mac(c, id, mac, sizeof(mac))) < 0)
        return rc;
    if (!hc_streq_ct(mac, dot + 1))
        return DB_NOTFOUND;
    *uid = id;
    return DB_OK;
}

/* ------------------------------------------------------------------------
 * Writing messages to the outbox.
 */
struct msg {
    const char *kind;        /* outbox.kind */
    enum mail_lang lang;     /* the recipient's language */
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
    char line[1024];

    sb_add(&m->html, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width\"></head>"
                     "<body style=\"margin:0;padding:24px;background:#f4f4f5;"
                     "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#18181b\">"
                     "<div style=\"max-width:560px;margin:0 auto;background:#ffffff;"
                     "border-radius:8px;padding:24px\"><h1 style=\"font-size:20px;margin:0 0 16px\">");
    sb_html(&m->html, heading);
    sb_add(&m->html, "</h1>");
    if (hello && *hello) {
        mail_fill(line, sizeof(line), m->lang, MT_HELLO, "name", hello, NULL);
        sb_add(&m->html, "<p>");
        sb_html(&m->html, line);
        sb_add(&m->html, "</p>");
        sb_addf(&m->text, "%s\n\n", line);
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
    char line[512];

    sb_add(&m->html, "<p style=\"margin:24px 0\"><a href=\"");
    sb_html(&m->html, url);
    sb_add(&m->html, "\" style=\"background:#4f46e5;color:#ffffff;padding:10px 18px;border-radius:6px;"
                     "text-decoration:none;display:inline-block\">");
    sb_html(&m->html, label);
    sb_add(&m->html, "</a></p>");
    mail_fill(line, sizeof(line), m->lang, MT_LINK, "label", label, NULL);
    sb_addf(&m->text, "%s\n%s\n\n", line, url);
}

static void msg_end(struct msg *m)
{
    char line[256];

    sb_add(&m->html, "<hr style=\"border:none;border-top:1px solid #e4e4e7;margin:24px 0 12px\">"
                     "<p style=\"font-size:12px;color:#71717a\">");
    sb_html(&m->html, mail_tr(m->lang, MT_FOOTER));
    sb_addf(&m->text, "-- \n%s\n", mail_tr(m->lang, MT_FOOTER));
    if (m->unsubscribe) {
        sb_add(&m->html, " <a href=\"{{unsubscribe}}\" style=\"color:#71717a\">");
        sb_html(&m->html, mail_tr(m->lang, MT_UNSUBSCRIBE));
        sb_add(&m->html, "</a>");
        mail_fill(line, sizeof(line), m->lang, MT_LINK, "label", mail_tr(m->lang, MT_UNSUBSCRIBE), NULL);
        sb_addf(&m->text, "%s {{unsubscribe}}\n", line);
    }
    sb_add(&m->html, "</p></div></body></html>\n");
}

static void msg_free(struct msg *m)
{
    free(m->text.p);
    free(m->html.p);
    m->text.p = m->html.p = NULL;
}

/* Write m to the outbox at now: 1 queued (*id set when id is given), 0
 * already queued (its dedupe key) or addressed to nobody, or a negative
 * db_rc. Frees the message's bodies either way. */
static int msg_put(struct catalog *c, struct msg *m, time_t now, int64_t *id)
{
    char *name = one_line(m->to_name);   /* a display name never spans lines */
    struct db_outbox_new n = {
        .kind = m->kind, .to_user = m->to_user, .to_addr = m->to_addr, .to_name = name,
        .subject = m->subject, .body_text = m->text.p ? m->text.p : "",
        .body_html = m->html.p ? m->html.p : "", .dedupe_key = m->dedupe, .unsubscribe = m->unsubscribe,
    };
    int rc = db_outbox_enqueue(c, &n, (int64_t)now, id);

    free(name);
    msg_free(m);
    if (rc == DB_CONSTRAINT)
        return 0;
    return rc < 0 ? rc : 1;
}

/* ------------------------------------------------------------------------
 * A batch of scheduled mail (mail.h): what its messages share, read once,
 * and the messages held until mail_batch_write.
 */
struct held {
    struct db_outbox_new n;       /* its strings are the ones below */
    char   *addr, *name, *subject, *text, *html, *dedupe;
    int64_t now;
};

struct week_count {               /* a week's participation on one clock */
    char    week[16];
    int64_t end, posted, active;
};

struct digest_list {              /* a digest's updates, with their answers */
    int     daily;                /* 1: [from, to) of any author; 0: week */
    char    week[16];
    int64_t from, to;
    struct db_outbox_digest_item *items;
    size_t  n;
    struct db_answer_of *ans;     /* grouped by item, in order */
    size_t  nans;
};

struct mail_batch {
    struct db_outbox_person *people;   /* db_outbox_members, by id */
    size_t  npeople;
    int     people_read;
    int64_t start;                     /* db_habit_company_start */
    int     start_rc, start_read;
    struct week_count *counts;
    size_t  ncounts, capcounts;
    struct digest_list *lists;
    size_t  nlists, caplists;
    struct held *held;
    size_t  nheld, capheld;
};

struct mail_batch *mail_batch_new(void)
{
    return hc_calloc(1, sizeof(struct mail_batch));
}

static void held_free(struct held *h)
{
    free(h->addr);
    free(h->name);
    free(h->subject);
    free(h->text);
    free(h->html);
    free(h->dedupe);
}

void mail_batch_free(struct mail_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nheld; i++)
        held_free(&b->held[i]);
    for (size_t i = 0; i < b->nlists; i++) {
        free(b->lists[i].items);
        free(b->lists[i].ans);
    }
    free(b->held);
    free(b->lists);
    free(b->counts);
    free(b->people);
    free(b);
}

int mail_batch_write(struct catalog *c, struct mail_batch *b, int *queued)
{
    int rc = DB_OK;

    if (!b->nheld)
        return DB_OK;
    memset(queued, 0, b->nheld * sizeof(*queued));
    if ((rc = db_begin(c)) == DB_OK) {
        for (size_t i = 0; i < b->nheld && rc == DB_OK; i++) {
            int r = db_outbox_enqueue(c, &b->held[i].n, b->held[i].now, NULL);
            if (r == DB_OK)
                queued[i] = 1;
            else if (r != DB_CONSTRAINT)   /* already queued: that one is not */
                rc = r;
        }
        if (rc == DB_OK)
            rc = db_commit(c);
        else
            db_rollback(c);
    }
    if (rc < 0)
        memset(queued, 0, b->nheld * sizeof(*queued));
    for (size_t i = 0; i < b->nheld; i++)
        held_free(&b->held[i]);
    b->nheld = 0;
    return rc < 0 ? rc : DB_OK;
}

/* Keep m in b to be written at now (mail_batch_write): 1. Frees the
 * message's bodies (b keeps its own copies). */
static int msg_hold(struct mail_batch *b, struct msg *m, time_t now)
{
    struct held *h;

    if (b->nheld == b->capheld) {
        b->capheld = b->capheld ? b->capheld * 2 : 64;
        b->held = hc_realloc(b->held, b->capheld * sizeof(*b->held));
    }
    h = &b->held[b->nheld++];
    memset(h, 0, sizeof(*h));
    h->addr = hc_strdup(m->to_addr ? m->to_addr : "");
    h->name = one_line(m->to_name);   /* a display name never spans lines */
    h->subject = hc_strdup(m->subject);
    h->text = hc_strdup(m->text.p ? m->text.p : "");
    h->html = hc_strdup(m->html.p ? m->html.p : "");
    h->dedupe = m->dedupe ? hc_strdup(m->dedupe) : NULL;
    h->now = (int64_t)now;
    h->n = (struct db_outbox_new){
        .kind = m->kind, .to_user = m->to_user, .to_addr = h->addr, .to_name = h->name,
        .subject = h->subject, .body_text = h->text, .body_html = h->html, .dedupe_key = h->dedupe,
        .unsubscribe = m->unsubscribe,
    };
    msg_free(m);
    return 1;
}

/* The person uid as the batch read them with everyone else (one
 * statement for all), or on their own when they are not among them.
 * DB_OK, DB_NOTFOUND or a negative db_rc. */
static int batch_person(struct catalog *c, struct mail_batch *b, int64_t uid, struct db_outbox_person *out)
{
    size_t lo = 0, hi;
    int rc;

    if (!b->people_read) {
        if ((rc = db_outbox_members(c, &b->people, &b->npeople)) < 0)
            return rc;
        b->people_read = 1;
    }
    hi = b->npeople;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->people[mid].id == uid) {
            *out = b->people[mid];
            return DB_OK;
        }
        if (b->people[mid].id < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return db_outbox_person(c, uid, out);
}

/* db_habit_week_counts, once per week and clock. DB_OK or a negative db_rc. */
static int batch_week_counts(struct catalog *c, struct mail_batch *b, const char *week, int64_t end,
                             int64_t *posted, int64_t *active)
{
    struct week_count *w;
    int rc;

    for (size_t i = 0; i < b->ncounts; i++) {
        if (b->counts[i].end == end && !strcmp(b->counts[i].week, week)) {
            *posted = b->counts[i].posted;
            *active = b->counts[i].active;
            return DB_OK;
        }
    }
    if ((rc = db_habit_week_counts(c, week, end, posted, active)) < 0)
        return rc;
    if (b->ncounts == b->capcounts) {
        b->capcounts = b->capcounts ? b->capcounts * 2 : 16;
        b->counts = hc_realloc(b->counts, b->capcounts * sizeof(*b->counts));
    }
    w = &b->counts[b->ncounts++];
    hc_strlcpy(w->week, week, sizeof(w->week));
    w->end = end;
    w->posted = *posted;
    w->active = *active;
    return DB_OK;
}

/* db_habit_company_start, once. DB_OK, DB_NOTFOUND or a negative db_rc. */
static int batch_company_start(struct catalog *c, struct mail_batch *b, int64_t *start)
{
    if (!b->start_read) {
        b->start_rc = db_habit_company_start(c, &b->start);
        if (b->start_rc < 0)
            return b->start_rc;
        b->start_read = 1;
    }
    *start = b->start;
    return b->start_rc;
}

/* The updates of the weekly digest of week (daily 0), or of the daily
 * digests of [from, to) (daily 1, every author's: each reader's list
 * leaves their own out), with their answers: read once. DB_OK with *out
 * (the batch's, valid until the next batch_digest) or a negative db_rc. */
static int batch_digest(struct catalog *c, struct mail_batch *b, int daily, const char *week, int64_t from,
                        int64_t to, const struct digest_list **out)
{
    struct digest_list l = { .daily = daily, .from = from, .to = to };
    int64_t *ids;
    int rc;

    for (size_t i = 0; i < b->nlists; i++) {
        const struct digest_list *x = &b->lists[i];
        if (x->daily == daily && (daily ? x->from == from && x->to == to : !strcmp(x->week, week))) {
            *out = x;
            return DB_OK;
        }
    }
    if (!daily)
        hc_strlcpy(l.week, week, sizeof(l.week));
    rc = daily ? db_outbox_digest_daily(c, 0, from, to, &l.items, &l.n)
               : db_outbox_digest_week(c, week, &l.items, &l.n);
    if (rc < 0)
        return rc;
    ids = hc_calloc(l.n ? l.n : 1, sizeof(*ids));
    for (size_t i = 0; i < l.n; i++)
        ids[i] = l.items[i].update_id;
    rc = db_update_answers_of(c, ids, l.n, &l.ans, &l.nans);
    free(ids);
    if (rc < 0) {
        free(l.items);
        return rc;
    }
    if (b->nlists == b->caplists) {
        b->caplists = b->caplists ? b->caplists * 2 : 8;
        b->lists = hc_realloc(b->lists, b->caplists * sizeof(*b->lists));
    }
    b->lists[b->nlists] = l;
    *out = &b->lists[b->nlists++];
    return DB_OK;
}

/* ------------------------------------------------------------------------
 * The messages.
 */
int mail_queue_invite(struct catalog *c, const struct conf *conf, const char *email,
                      const char *name, const char *inviter, const char *url)
{
    return mail_queue_invite_in(c, conf, "en", email, name, inviter, url);
}

int mail_queue_invite_in(struct catalog *c, const struct conf *conf, const char *lang, const char *email,
                         const char *name, const char *inviter, const char *url)
{
    struct msg m = { .kind = "invite", .lang = mail_lang_of(lang), .to_addr = email, .to_name = name };
    const char *who = inviter && *inviter ? inviter : mail_tr(m.lang, MT_YOUR_TEAM);
    char line[2048];
    int rc;

    (void)conf;
    mail_fill(line, sizeof(line), m.lang, MT_INVITE_SUBJECT, "inviter", who, NULL);
    msg_subject(&m, "%s", line);
    msg_begin(&m, mail_tr(m.lang, MT_INVITE_HEADING), name && *name ? name : NULL);
    mail_fill(line, sizeof(line), m.lang, MT_INVITE_BODY, "inviter", who, NULL);
    msg_para(&m, line);
    msg_button(&m, url, mail_tr(m.lang, MT_INVITE_BUTTON));
    msg_para(&m, mail_tr(m.lang, MT_INVITE_EXPIRY));
    msg_end(&m);
    rc = msg_put(c, &m, hc_now(), NULL);
    return rc < 0 ? rc : 0;
}

int mail_queue_reset(struct catalog *c, const struct db_outbox_person *u, const char *token, time_t now)
{
    struct msg m = { .kind = "reset", .lang = mail_lang_of(u->lang), .to_user = u->id, .to_addr = u->email,
                     .to_name = u->name };
    char url[256];

    snprintf(url, sizeof(url), "{{base}}/reset#token=%s", token);
    msg_subject(&m, "%s", mail_tr(m.lang, MT_RESET_SUBJECT));
    msg_begin(&m, mail_tr(m.lang, MT_RESET_HEADING), u->name);
    msg_para(&m, mail_tr(m.lang, MT_RESET_BODY));
    msg_button(&m, url, mail_tr(m.lang, MT_RESET_BUTTON));
    msg_para(&m, mail_tr(m.lang, MT_RESET_EXPIRY));
    msg_end(&m);
    return msg_put(c, &m, now, NULL);
}

/* The title of an all-hands as its mail shows it, after our own
 * "All-hands" prefix: a title that already starts with "All-hands:" (or
 * "All hands -", "Allhands", any case, alone or before ':', '-', '|' or a
 * dash) loses that start, so the prefix is written once. A pointer into
 * title; "" when nothing is left. */
static const char *allhands_title(const char *title)
{
    static const char *const starts[] = { "all-hands", "all hands", "allhands" };
    const char *p = NULL;

    for (size_t i = 0; i < HC_ARRAY_LEN(starts) && !p; i++)
        if (!strncasecmp(title, starts[i], strlen(starts[i])))
            p = title + strlen(starts[i]);
    if (!p)
        return title;
    while (*p == ' ')
        p++;
    if (*p == ':' || *p == '-' || *p == '|')
        p++;
    else if (!strncmp(p, "\xe2\x80\x93", 3) || !strncmp(p, "\xe2\x80\x94", 3))   /* en or em dash */
        p += 3;
    else if (*p)
        return title;   /* "All-hands meeting": a title of its own */
    while (*p == ' ')
        p++;
    return p;
}

/* The notification of update up to one recipient r. */
static int queue_update_notice(struct catalog *c, const struct db_outbox_update *up,
                               const struct db_outbox_person *r, time_t now)
{
    struct msg m = { .kind = up->allhands ? "allhands" : "update", .lang = mail_lang_of(r->lang),
                     .to_user = r->id, .to_addr = r->email, .to_name = r->name, .unsubscribe = 1 };
    char dedupe[96], url[96], line[2048], week[64];
    const char *title = up->allhands ? allhands_title(up->title) : up->title;
    int titled = title[0] != '\0';

    /* An update turned all-hands later (PATCH kind) mails everyone once
     * more, under its own key: once per update and person, however often
     * its kind goes back and forth. */
    snprintf(dedupe, sizeof(dedupe), "%s:%lld:%lld", up->allhands ? "allhands" : "update",
             (long long)up->id, (long long)r->id);
    snprintf(url, sizeof(url), "{{base}}/watch/%lld", (long long)up->id);
    m.dedupe = dedupe;
    mail_week_label(m.lang, up->iso_week, week, sizeof(week));
    mail_fill(line, sizeof(line), m.lang,
              up->allhands ? (titled ? MT_ALLHANDS_SUBJECT_TITLED : MT_ALLHANDS_SUBJECT)
                           : (titled ? MT_UPDATE_SUBJECT_TITLED : MT_UPDATE_SUBJECT),
              "author", up->author, "title", title, NULL);
    msg_subject(&m, "%s", line);
    msg_begin(&m, mail_tr(m.lang, up->allhands ? MT_ALLHANDS_HEADING : MT_UPDATE_HEADING), r->name);
    mail_fill(line, sizeof(line), m.lang,
              up->allhands ? (titled ? MT_ALLHANDS_BODY_TITLED : MT_ALLHANDS_BODY)
                           : (titled ? MT_UPDATE_BODY_TITLED : MT_UPDATE_BODY),
              "author", up->author, "title", title, "week", week, NULL);
    msg_para(&m, line);
    msg_button(&m, url, mail_tr(m.lang, MT_WATCH_BUTTON));
    msg_end(&m);
    return msg_put(c, &m, now, NULL);
}

int mail_on_update_ready(struct catalog *c, const struct conf *conf, int64_t update_id)
{
    struct db_outbox_update up;
    struct db_outbox_person *rcpts = NULL;
    size_t n = 0;
    time_t now = hc_now();
    int rc;

    (void)conf;
    if ((rc = db_outbox_update_notice(c, update_id, &up)) != DB_OK)
        return rc == DB_NOTFOUND ? 0 : rc;   /* deleted meanwhile: nobody to tell */
    if ((rc = db_outbox_update_recipients(c, up.author_id, up.allhands, &rcpts, &n)) < 0)
        return rc;
    for (size_t i = 0; i < n && rc >= 0; i++)
        rc = queue_update_notice(c, &up, &rcpts[i], now);
    free(rcpts);
    /* Now that others can watch it: the people its description and
     * answers mention (written at upload or edited since) hear of it. */
    if (rc >= 0 && (rc = habit_mentions_update(c, update_id)) >= 0)
        rc = mail_on_mentions(c, update_id);
    return rc < 0 ? rc : 0;
}

/* The mail to the person mention k names, in their language. 1 queued, 0
 * not (already, or they receive no mail), or a negative db_rc. */
static int queue_mention(struct catalog *c, const struct db_mention *k, time_t now)
{
    struct db_outbox_person to;
    struct msg m = { .kind = "mention", .unsubscribe = 1 };
    char dedupe[128], url[128], line[1024];
    int allhands = !strcmp(k->kind, "allhands"), rc;
    const char *title;

    if ((rc = db_outbox_person(c, k->user_id, &to)) != DB_OK)
        return rc == DB_NOTFOUND ? 0 : rc;
    if (to.deactivated || to.unsubscribed)
        return 0;
    m.to_user = to.id;
    m.to_addr = to.email;
    m.to_name = to.name;
    m.lang = mail_lang_of(to.lang);
    snprintf(dedupe, sizeof(dedupe), "mention:%lld:%s", (long long)k->user_id, k->source);
    m.dedupe = dedupe;
    if (k->comment_id)
        snprintf(url, sizeof(url), "{{base}}/watch/%lld#comment-%lld", (long long)k->update_id,
                 (long long)k->comment_id);
    else
        snprintf(url, sizeof(url), "{{base}}/watch/%lld", (long long)k->update_id);
    mail_fill(line, sizeof(line), m.lang, k->comment_id ? MT_MENTION_SUBJECT_COMMENT
                                          : allhands ? MT_MENTION_SUBJECT_ALLHANDS : MT_MENTION_SUBJECT_UPDATE,
              "by", k->by_name, NULL);
    msg_subject(&m, "%s", line);
    msg_begin(&m, mail_tr(m.lang, MT_MENTION_HEADING), to.name);
    title = k->title[0] ? k->title : mail_tr(m.lang, allhands ? MT_ITEM_ALLHANDS_ALONE : MT_ITEM_UNTITLED);
    mail_fill(line, sizeof(line), m.lang, k->comment_id ? MT_MENTION_IN_COMMENT
                                          : allhands ? MT_MENTION_IN_ALLHANDS : MT_MENTION_IN_UPDATE,
              "by", k->by_name, "title", title, NULL);
    msg_para(&m, line);
    sb_add(&m.html, "<blockquote style=\"margin:0;padding:8px 16px;border-left:3px solid #e4e4e7\">");
    sb_html(&m.html, k->excerpt);
    sb_add(&m.html, "</blockquote>");
    sb_addf(&m.text, "> %s\n\n", k->excerpt);
    msg_button(&m, url, mail_tr(m.lang, MT_SEE_BUTTON));
    msg_end(&m);
    return msg_put(c, &m, now, NULL);
}

int mail_on_mentions(struct catalog *c, int64_t update_id)
{
    struct db_mention *ks;
    size_t n;
    int rc;

    if ((rc = db_mention_list_update(c, update_id, &ks, &n)) < 0)
        return rc;
    for (size_t i = 0; i < n && rc >= 0; i++)
        if (!strcmp(ks[i].status, "ready"))
            rc = queue_mention(c, &ks[i], hc_now());
    free(ks);
    return rc < 0 ? rc : 0;
}

int mail_on_comment(struct catalog *c, const struct conf *conf, int64_t comment_id)
{
    struct db_outbox_comment cm;
    struct msg m = { .kind = "comment", .unsubscribe = 1 };
    char dedupe[64], url[128], line[2048];
    int rc;

    (void)conf;
    if ((rc = db_outbox_comment_notice(c, comment_id, &cm)) != DB_OK)
        return rc == DB_NOTFOUND ? 0 : rc;
    if (cm.commenter_id == cm.author.id || cm.author.deactivated || cm.author.unsubscribed) {
        db_outbox_comment_free(&cm);
        return 0;
    }
    m.lang = mail_lang_of(cm.author.lang);
    m.to_user = cm.author.id;
    m.to_addr = cm.author.email;
    m.to_name = cm.author.name;
    snprintf(dedupe, sizeof(dedupe), "comment:%lld", (long long)comment_id);
    snprintf(url, sizeof(url), "{{base}}/watch/%lld#comment-%lld", (long long)cm.update_id,
             (long long)comment_id);
    m.dedupe = dedupe;
    mail_fill(line, sizeof(line), m.lang, cm.title[0] ? MT_COMMENT_SUBJECT_TITLED : MT_COMMENT_SUBJECT,
              "commenter", cm.commenter, "title", cm.title, NULL);
    msg_subject(&m, "%s", line);
    msg_begin(&m, mail_tr(m.lang, MT_COMMENT_HEADING), cm.author.name);
    mail_fill(line, sizeof(line), m.lang, MT_COMMENT_WROTE, "commenter", cm.commenter, NULL);
    msg_para(&m, line);
    sb_add(&m.html, "<blockquote style=\"margin:0;padding:8px 16px;border-left:3px solid #e4e4e7\">");
    sb_html(&m.html, cm.body);
    sb_add(&m.html, "</blockquote>");
    sb_addf(&m.text, "> %s\n\n", cm.body);
    msg_button(&m, url, mail_tr(m.lang, MT_REPLY_BUTTON));
    msg_end(&m);
    rc = msg_put(c, &m, hc_now(), NULL);
    db_outbox_comment_free(&cm);
    return rc < 0 ? rc : 0;
}

#define CHART_WEEKS 8           /* weeks in the digest's chart, ending with the digest's */
#define CHART_CELLS 10          /* characters of a bar in the text part */
#define CHART_BAR   "height:12px;line-height:12px;font-size:1px"

/* One week of the chart: label "W45", its bar as wide as posted of active. */
static void chart_row(struct msg *m, const char *week, int64_t posted, int64_t active)
{
    const char *num = strstr(week, "-W");
    int pct = active > 0 ? (int)((posted * 200 + active) / (2 * active)) : 0;
    int full = active > 0 ? (int)((posted * 2 * CHART_CELLS + active) / (2 * active)) : 0;
    char label[32];

    mail_fill(label, sizeof(label), m->lang, MT_CHART_WEEK, "n", num ? num + 2 : week, NULL);
    sb_add(&m->html, "<tr data-week=\"");
    sb_html(&m->html, week);
    sb_add(&m->html, "\"><th scope=\"row\" style=\"text-align:left;font-weight:normal;color:#71717a;"
                     "padding:2px 8px 2px 0\">");
    sb_html(&m->html, label);
    sb_add(&m->html, "</th><td style=\"padding:2px 0\"><table role=\"presentation\" width=\"200\" "
                     "cellpadding=\"0\" cellspacing=\"0\" style=\"border-collapse:collapse;width:200px\"><tr>");
    if (pct > 0)
        sb_addf(&m->html, "<td style=\"background:#4f46e5;width:%d%%;" CHART_BAR "\">&nbsp;</td>", pct);
    if (pct < 100)
        sb_add(&m->html, "<td style=\"background:#e4e4e7;" CHART_BAR "\">&nbsp;</td>");
    sb_addf(&m->html, "</tr></table></td><td style=\"padding:2px 0 2px 8px\">%lld/%lld</td></tr>",
            (long long)posted, (long long)active);
    sb_addf(&m->text, "%s ", label);
    for (int i = 0; i < CHART_CELLS; i++)
        sb_add(&m->text, i < full ? "\xe2\x96\x88" : "\xe2\x96\x91");   /* U+2588, U+2591 */
    sb_addf(&m->text, " %lld/%lld\n", (long long)posted, (long long)active);
}

/*
 * The participation of the CHART_WEEKS weeks ending with `week`, on the
 * clock of tz, oldest first, as a chart both parts show with no image or
 * script: an HTML table whose bars are coloured cells (inline styles),
 * and text lines "W45 ████████░░ 7/9". Weeks that ended before the
 * company began are left out (nothing when all did). DB_OK or a negative
 * db_rc; on failure the message may hold part of the chart (the caller
 * drops it).
 */
static int participation_chart(struct catalog *c, struct mail_batch *b, struct msg *m, const char *week,
                               const char *tz)
{
    time_t end = hc_iso_week_end(week, tz);
    int64_t start = 0, posted, active;
    char line[256];
    int rows = 0, src, rc;

    if (end == (time_t)-1)
        return DB_OK;
    if ((src = batch_company_start(c, b, &start)) < 0)
        return src;
    for (int k = CHART_WEEKS - 1; k >= 0; k--) {
        /* The middle of the week k weeks before: clear of any clock change. */
        time_t mid = end - (time_t)(7 * k + 3) * 86400 - 12 * 3600, wend;
        char label[16];

        if (hc_iso_week(mid, tz, label, sizeof(label)) < 0 || (wend = hc_iso_week_end(label, tz)) == (time_t)-1)
            continue;
        if (src == DB_OK && (int64_t)wend <= start)
            continue;   /* the company did not exist yet */
        if ((rc = batch_week_counts(c, b, label, (int64_t)wend, &posted, &active)) < 0)
            return rc;
        if (!rows++) {
            sb_add(&m->html, "<table data-chart=\"participation\" cellpadding=\"0\" cellspacing=\"0\" "
                             "style=\"border-collapse:collapse;margin:0 0 16px;font-size:14px\">"
                             "<caption style=\"text-align:left;font-weight:600;padding:0 0 8px\">");
            sb_html(&m->html, mail_tr(m->lang, MT_CHART_HEADING));
            sb_add(&m->html, "</caption>");
            mail_fill(line, sizeof(line), m->lang, MT_LINK, "label", mail_tr(m->lang, MT_CHART_HEADING), NULL);
            sb_addf(&m->text, "%s\n", line);
        }
        chart_row(m, label, posted, active);
    }
    if (rows) {
        sb_add(&m->html, "</table><!-- /chart -->");
        sb_add(&m->text, "\n");
    }
    return DB_OK;
}

/* The week's participation as the participation page counts it, on the
 * recipient's clock. DB_OK or a negative db_rc. */
static int participation(struct catalog *c, struct mail_batch *b, const char *week, const char *tz,
                         int64_t *posted, int64_t *active)
{
    return batch_week_counts(c, b, week, (int64_t)hc_iso_week_end(week, tz && *tz ? tz : "UTC"), posted, active);
}

/* The recipient of a scheduled message: DB_OK, DB_NOTFOUND (gone: nothing
 * to send) or a negative db_rc. */
static int recipient(struct catalog *c, struct mail_batch *b, int64_t user_id, struct msg *m,
                     struct db_outbox_person *u)
{
    int rc = batch_person(c, b, user_id, u);

    if (rc == DB_OK) {
        m->to_addr = u->email;
        m->to_name = u->name;
        m->lang = mail_lang_of(u->lang);
    }
    return rc;
}

/* A scheduled message on its own (no batch given): kind 0 reminder, 1
 * weekly digest, 2 daily digest, in a batch of one written at once. 1
 * queued, 0 nothing to send or already queued, or a negative db_rc. */
static int one_message(struct catalog *c, int kind, int64_t user_id, const char *label, int nth, time_t from,
                       time_t to, time_t now)
{
    struct mail_batch *b = mail_batch_new();
    int rc, queued = 0;

    rc = kind == 0 ? mail_queue_reminder(c, b, user_id, label, nth, now)
       : kind == 1 ? mail_queue_weekly_digest(c, b, user_id, label, now)
                   : mail_queue_daily_digest(c, b, user_id, label, from, to, now);
    if (rc > 0)
        rc = (rc = mail_batch_write(c, b, &queued)) < 0 ? rc : queued;
    mail_batch_free(b);
    return rc;
}

int mail_queue_reminder(struct catalog *c, struct mail_batch *b, int64_t user_id, const char *week, int nth,
                        time_t now)
{
    struct db_outbox_person u;
    struct msg m = { .kind = "reminder", .to_user = user_id, .unsubscribe = 1 };
    char dedupe[96], line[2048], wk[64], np[24], na[24];
    int64_t posted, active;
    int rc;

    if (!b)
        return one_message(c, 0, user_id, week, nth, 0, 0, now);
    if ((rc = recipient(c, b, user_id, &m, &u)) != DB_OK ||
        (rc = participation(c, b, week, u.time_zone, &posted, &active)) < 0)
        return rc == DB_NOTFOUND ? 0 : rc;
    snprintf(dedupe, sizeof(dedupe), "reminder:%lld:%s:%d", (long long)user_id, week, nth);
    m.dedupe = dedupe;
    mail_week_label(m.lang, week, wk, sizeof(wk));
    mail_fill(line, sizeof(line), m.lang, nth == 1 ? MT_REMINDER_SUBJECT : MT_NUDGE_SUBJECT, "week", wk, NULL);
    msg_subject(&m, "%s", line);
    msg_begin(&m, mail_tr(m.lang, nth == 1 ? MT_REMINDER_HEADING : MT_NUDGE_HEADING), u.name);
    msg_para(&m, mail_tr(m.lang, nth == 1 ? MT_REMINDER_BODY : MT_NUDGE_BODY));
    snprintf(np, sizeof(np), "%lld", (long long)posted);
    snprintf(na, sizeof(na), "%lld", (long long)active);
    mail_fill(line, sizeof(line), m.lang, mail_plural(m.lang, MT_POSTED_SO_FAR, posted),
              "posted", np, "active", na, "week", wk, NULL);
    msg_para(&m, line);
    msg_button(&m, "{{base}}/record", mail_tr(m.lang, MT_RECORD_BUTTON));
    msg_end(&m);
    return msg_hold(b, &m, now);
}

/* The check-in answers of item i of list l under its line in a digest;
 * *at walks l's answers (grouped by item, in order). */
static void list_answers(struct msg *m, const struct digest_list *l, size_t i, size_t *at)
{
    int open = 0;

    for (; *at < l->nans && l->ans[*at].i <= i; (*at)++) {
        const struct db_answer *a = &l->ans[*at].a;
        if (l->ans[*at].i != i)
            continue;
        if (!open++)
            sb_add(&m->html, "<ul style=\"margin:-4px 0 12px 132px;padding-left:16px;color:#3f3f46\">");
        sb_add(&m->html, "<li><strong>");
        sb_html(&m->html, a->prompt);
        sb_add(&m->html, ":</strong> ");
        sb_html(&m->html, a->text);
        sb_add(&m->html, "</li>");
        sb_addf(&m->text, "  %s: %s\n", a->prompt, a->text);
    }
    if (open)
        sb_add(&m->html, "</ul>");
}

/* The updates of l but those by skip (0: none) as a list in both parts:
 * title, poster, author, link, and the check-in answers. */
static void list_updates(struct msg *m, const struct digest_list *l, int64_t skip)
{
    size_t at = 0;

    for (size_t i = 0; i < l->n; i++) {
        const struct db_outbox_digest_item *p = &l->items[i];
        const char *title = p->allhands ? allhands_title(p->title) : p->title;
        const char *allhands = p->allhands ? mail_tr(m->lang, MT_ITEM_ALLHANDS) : "";
        char url[96];

        if (skip && p->author_id == skip)
            continue;
        snprintf(url, sizeof(url), "{{base}}/watch/%lld", (long long)p->update_id);
        sb_add(&m->html, "<table role=\"presentation\" style=\"margin:0 0 12px\"><tr><td style=\"padding-right:12px\">"
                         "<a href=\"");
        sb_html(&m->html, url);
        sb_addf(&m->html, "\"><img src=\"{{base}}{{poster:%lld}}\" width=\"120\" alt=\"\" "
                          "style=\"border-radius:4px;display:block\"></a></td><td><a href=\"",
                (long long)p->update_id);
        sb_html(&m->html, url);
        sb_add(&m->html, "\" style=\"font-weight:600;color:#18181b\">");
        sb_html(&m->html, allhands);
        sb_html(&m->html, *title ? title : mail_tr(m->lang, MT_ITEM_UNTITLED));
        sb_add(&m->html, "</a><br><span style=\"color:#71717a\">");
        sb_html(&m->html, p->author);
        sb_add(&m->html, "</span></td></tr></table>");
        sb_addf(&m->text, "* %s%s - %s\n  %s\n", allhands, *title ? title : mail_tr(m->lang, MT_ITEM_UNTITLED),
                p->author, url);
        list_answers(m, l, i, &at);
    }
    sb_add(&m->text, "\n");
}

int mail_queue_weekly_digest(struct catalog *c, struct mail_batch *b, int64_t user_id, const char *week,
                             time_t now)
{
    struct db_outbox_person u;
    const struct digest_list *l = NULL;
    struct msg m = { .kind = "digest", .to_user = user_id, .unsubscribe = 1 };
    char dedupe[96], line[2048], wk[64], np[24], na[24], pct[8];
    int64_t posted, active;
    int rc;

    if (!b)
        return one_message(c, 1, user_id, week, 0, 0, 0, now);
    if ((rc = recipient(c, b, user_id, &m, &u)) != DB_OK ||
        (rc = participation(c, b, week, u.time_zone, &posted, &active)) < 0 ||
        (rc = batch_digest(c, b, 0, week, 0, 0, &l)) < 0)
        return rc == DB_NOTFOUND ? 0 : rc;
    snprintf(dedupe, sizeof(dedupe), "digest:%lld:%s", (long long)user_id, week);
    m.dedupe = dedupe;
    mail_week_label(m.lang, week, wk, sizeof(wk));
    snprintf(np, sizeof(np), "%lld", (long long)posted);
    snprintf(na, sizeof(na), "%lld", (long long)active);
    snprintf(pct, sizeof(pct), "%d", active ? (int)(posted * 100 / active) : 0);
    mail_fill(line, sizeof(line), m.lang, mail_plural(m.lang, MT_DIGEST_SUBJECT, posted),
              "week", wk, "posted", np, "active", na, "pct", pct, NULL);
    msg_subject(&m, "%s", line);
    msg_begin(&m, mail_tr(m.lang, MT_DIGEST_HEADING), u.name);
    mail_fill(line, sizeof(line), m.lang, mail_plural(m.lang, MT_DIGEST_PARTICIPATION, posted),
              "week", wk, "posted", np, "active", na, "pct", pct, NULL);
    msg_para(&m, line);
    if ((rc = participation_chart(c, b, &m, week, u.time_zone[0] ? u.time_zone : "UTC")) < 0) {
        msg_free(&m);
        return rc;
    }
    if (l->n)
        list_updates(&m, l, 0);
    else
        msg_para(&m, mail_tr(m.lang, MT_DIGEST_NOBODY));
    msg_button(&m, "{{base}}/record", mail_tr(m.lang, MT_DIGEST_BUTTON));
    msg_end(&m);
    return msg_hold(b, &m, now);
}

int mail_queue_daily_digest(struct catalog *c, struct mail_batch *b, int64_t user_id, const char *date,
                            time_t from, time_t to, time_t now)
{
    struct db_outbox_person u;
    const struct digest_list *l = NULL;
    struct msg m = { .kind = "daily", .to_user = user_id, .unsubscribe = 1 };
    char dedupe[96], line[512], nn[24];
    size_t n = 0;
    int rc;

    if (!b)
        return one_message(c, 2, user_id, date, 0, from, to, now);
    if ((rc = recipient(c, b, user_id, &m, &u)) != DB_OK ||
        (rc = batch_digest(c, b, 1, NULL, (int64_t)from, (int64_t)to, &l)) < 0)
        return rc == DB_NOTFOUND ? 0 : rc;
    for (size_t i = 0; i < l->n; i++)
        n += l->items[i].author_id != user_id;
    if (!n)
        return 0;   /* nothing new: no mail */
    snprintf(dedupe, sizeof(dedupe), "daily:%lld:%s", (long long)user_id, date);
    m.dedupe = dedupe;
    snprintf(nn, sizeof(nn), "%zu", n);
    mail_fill(line, sizeof(line), m.lang, mail_plural(m.lang, MT_DAILY_SUBJECT, (long long)n), "n", nn, NULL);
    msg_subject(&m, "%s", line);
    msg_begin(&m, mail_tr(m.lang, MT_DAILY_HEADING), u.name);
    list_updates(&m, l, user_id);
    msg_end(&m);
    return msg_hold(b, &m, now);
}

int mail_queue_test(struct catalog *c, int64_t user_id, const char *email, const char *name,
                    time_t now, int64_t *id)
{
    struct msg m = { .kind = "test", .to_user = user_id, .to_addr = email, .to_name = name };
    struct db_outbox_person u;

    if (db_outbox_person(c, user_id, &u) == DB_OK)   /* else English: the test is about delivery */
        m.lang = mail_lang_of(u.lang);
    msg_subject(&m, "%s", mail_tr(m.lang, MT_TEST_SUBJECT));
    msg_begin(&m, mail_tr(m.lang, MT_TEST_HEADING), name);
    msg_para(&m, mail_tr(m.lang, MT_TEST_BODY));
    msg_button(&m, "{{base}}/", mail_tr(m.lang, MT_OPEN_BUTTON));
    msg_end(&m);
    return msg_put(c, &m, now, id);
}
