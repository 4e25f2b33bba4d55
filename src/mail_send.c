/*
 * mail_send.c - delivery of the outbox over SMTP with libcurl: the
 * configuration (the settings table overrides the config), one message at
 * a time with STARTTLS or TLS, retries with backoff, and the delivery
 * thread of `hubcast serve`. See mail.c for the exactly-once argument.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "catalog.h"
#include "conf.h"
#include "db_habit.h"
#include "db_outbox.h"
#include "db_settings.h"
#include "leader.h"
#include "mail.h"
#include "mail_int.h"
#include "media.h"
#include "util.h"

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
void mail_parse_from(const char *from, char *name, size_t namesz, char *addr, size_t addrsz)
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

/* A setting, or NULL when it is not set. DB_OK or a negative db_rc. */
static int setting(struct catalog *c, const char *key, char **out)
{
    int rc = db_setting_get(c, key, out);
    return rc == DB_NOTFOUND ? DB_OK : rc;
}

/* The delivery configuration now. DB_OK, or a negative db_rc when the
 * settings could not be read (s is then unusable). */
static int load_cfg(struct catalog *c, const struct conf *conf, struct smtp_cfg *s)
{
    char *url = NULL, *from = NULL, *base = NULL, *at;
    long rb = 30;
    size_t n;
    int rc;

    memset(s, 0, sizeof(*s));
    if ((rc = setting(c, "smtp_url", &url)) < 0 || (rc = setting(c, "mail_from", &from)) < 0 ||
        (rc = setting(c, "mail_retry_base", &base)) < 0)
        goto out;
    hc_strlcpy(s->url, url && *url ? url : conf->smtp_url, sizeof(s->url));
    mail_parse_from(from && *from ? from : conf->mail_from, s->from_name, sizeof(s->from_name),
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
out:
    free(url);
    free(from);
    free(base);
    return rc;
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
static enum send_result smtp_send(const struct smtp_cfg *s, const struct db_outbox_msg *row,
                                  const char *unsub_url, char *err, size_t errsz, int *server_answered)
{
    const char *to = row->to_addr, *to_name = row->to_name, *subject = row->subject;
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
    text = expand(row->body_text, s->base, unsub_url ? unsub_url : "");
    html = expand(row->body_html, s->base, unsub_url ? unsub_url : "");
    subj = mail_header_encode(subject, 0);

    date_header(hc_now(), line, sizeof(line));
    hdr = curl_slist_append(hdr, line);
    hdr = addr_header(hdr, "From", s->from_name, s->from_addr);
    hdr = addr_header(hdr, "To", to_name, to);
    snprintf(line, sizeof(line), "Subject: %s", subj);
    hdr = curl_slist_append(hdr, line);
    snprintf(line, sizeof(line), "Message-ID: <hubcast.%lld.%lld@%s>", (long long)row->id,
             (long long)row->created_at, s->domain);
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

/*
 * Should a queued notification no longer go out? (the recipient
 * unsubscribed or left; a reminder for a week they have since posted in)
 * DB_OK with *why NULL (send it) or a sentence, or a negative db_rc.
 */
static int stale_reason(struct catalog *c, const struct db_outbox_msg *row, const char **why)
{
    struct db_outbox_person u;
    int rc, posted = 0;

    *why = NULL;
    if (!row->to_user || !row->unsubscribe)
        return DB_OK;
    if ((rc = db_outbox_person(c, row->to_user, &u)) < 0)
        return rc;
    if (rc == DB_NOTFOUND || u.deactivated)
        *why = "cancelled: the recipient's account is deactivated";
    else if (u.unsubscribed)
        *why = "cancelled: the recipient unsubscribed";
    else if (!strcmp(row->kind, "reminder")) {
        char week[16] = "";
        const char *p = strchr(row->dedupe_key + 9, ':');     /* "reminder:<uid>:<week>:<n>" */
        if (strlen(row->dedupe_key) > 9 && p && strlen(p + 1) >= 8) {
            memcpy(week, p + 1, 8);
            week[8] = '\0';
            if ((rc = db_habit_has_posted(c, row->to_user, week, -1, &posted)) < 0)
                return rc;
            if (posted)
                *why = "cancelled: the recipient has posted since";
        }
    }
    return DB_OK;
}

/*
 * The outcome of a message that left the catalog's hands: written back by
 * record(). When writing it fails, the delivery thread keeps it and writes
 * it before claiming anything else, so a message delivered but not marked
 * is never claimed again by this process.
 */
enum outcome { OUT_SENT, OUT_FAILED, OUT_RETRY, OUT_UNCLAIM };
struct record {
    int          pending;       /* an outcome not written yet */
    enum outcome what;
    int64_t      id;
    int64_t      at;            /* sent at (OUT_SENT) or next try (OUT_RETRY) */
    char         why[512];      /* last_error (OUT_FAILED, OUT_RETRY) */
};

static int record(struct catalog *c, struct record *r)
{
    int rc = DB_OK;

    switch (r->what) {
    case OUT_SENT:    rc = db_outbox_sent(c, r->id, r->at); break;
    case OUT_FAILED:  rc = db_outbox_failed(c, r->id, r->why); break;
    case OUT_RETRY:   rc = db_outbox_retry(c, r->id, r->at, r->why); break;
    case OUT_UNCLAIM: rc = db_outbox_unclaim(c, r->id); break;
    }
    /* Not found or not claimed any more: someone else decided; nothing to keep. */
    r->pending = rc < 0 && rc != DB_INVALID;
    if (r->pending)
        hc_log("mail: cannot record the outcome of message %lld (%s); trying again shortly",
               (long long)r->id, db_rc_name(rc));
    return r->pending ? rc : DB_OK;
}

static void set_outcome(struct record *r, enum outcome what, int64_t id, int64_t at, const char *why)
{
    r->what = what;
    r->id = id;
    r->at = at;
    hc_strlcpy(r->why, why ? why : "", sizeof(r->why));
}

/* Seconds before attempt number `attempts` + 1: base, doubling, capped. */
static int64_t backoff(int attempts, int base)
{
    int64_t delay = base;

    while (--attempts > 0 && delay < MAIL_RETRY_MAX)
        delay *= 2;
    return delay > MAIL_RETRY_MAX ? MAIL_RETRY_MAX : delay;
}

/*
 * Deliver one due message. Returns 1 if one was handled (try the next one
 * now), 0 if nothing is due or the queue waits (*pause_until set when the
 * server is out of reach), or a negative db_rc when the catalog failed
 * (the caller logs it and tries again on its next tick).
 */
static int deliver_one(struct catalog *c, const struct smtp_cfg *s, struct record *out,
                       time_t *pause_until)
{
    struct db_outbox_msg row;
    time_t now = hc_now();
    char err[512] = "", unsub[700], token[160];
    const char *why;
    enum send_result r;
    int answered = 0, rc;

    if ((rc = db_outbox_claim(c, (int64_t)now, &row)) != DB_OK)
        return rc == DB_NOTFOUND ? 0 : rc;
    if ((rc = stale_reason(c, &row, &why)) < 0) {
        set_outcome(out, OUT_UNCLAIM, row.id, 0, NULL);
        record(c, out);
        db_outbox_msg_free(&row);
        return rc;
    }
    if (why) {
        set_outcome(out, OUT_FAILED, row.id, 0, why);
        db_outbox_msg_free(&row);
        return record(c, out) < 0 ? DB_ERROR : 1;
    }
    unsub[0] = '\0';
    if (row.unsubscribe && row.to_user) {
        if ((rc = mail_unsubscribe_token(c, row.to_user, token, sizeof(token))) < 0) {
            set_outcome(out, OUT_UNCLAIM, row.id, 0, NULL);
            record(c, out);
            db_outbox_msg_free(&row);
            return rc;
        }
        snprintf(unsub, sizeof(unsub), "%s/api/unsubscribe?token=%s", s->base, token);
    }
    r = smtp_send(s, &row, unsub[0] ? unsub : NULL, err, sizeof(err), &answered);
    now = hc_now();
    rc = 1;
    if (r == SEND_STOPPED) {
        /* Not an attempt: nothing reached the server. */
        set_outcome(out, OUT_UNCLAIM, row.id, 0, NULL);
        rc = 0;
    } else if (r == SEND_OK) {
        /* The window: delivered, not yet marked. Nothing else happens here. */
        set_outcome(out, OUT_SENT, row.id, (int64_t)now, NULL);
    } else if (r == SEND_PERMANENT || now - (time_t)row.created_at >= MAIL_RETRY_FOR) {
        set_outcome(out, OUT_FAILED, row.id, 0, err);
        hc_log("mail: gave up on message %lld to %s: %s", (long long)row.id, row.to_addr, err);
    } else {
        int64_t delay = backoff(row.attempts, s->retry_base);
        set_outcome(out, OUT_RETRY, row.id, (int64_t)now + delay, err);
        hc_log("mail: message %lld to %s not sent (%s); next try in %lld s", (long long)row.id,
               row.to_addr, err, (long long)delay);
        if (!answered) {
            *pause_until = now + delay;
            rc = 0;
        }
    }
    db_outbox_msg_free(&row);
    if (record(c, out) < 0)
        return DB_ERROR;
    return rc;
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
    struct record out = { 0 };
    struct leader *lead = NULL;
    time_t pause_until = 0;
    int n = 0, rc, released = 0;   /* released: claims of an earlier run freed */

    conf_catalog(conf, path, sizeof(path));
    if (!(c = catalog_open(path, 0, err, sizeof(err)))) {
        hc_log("mail: %s", err);
        return NULL;
    }
    while (!atomic_load(&mail_stopping)) {
        struct smtp_cfg s;

        rc = DB_OK;
        if (out.pending)
            rc = record(c, &out);
        /* One sender across every server of a PostgreSQL catalog: the one
         * that leads "mail" (on SQLite, always this one). Whoever takes
         * the leadership over frees the claims of the one before. */
        if (!lead && !(lead = leader_open(path, "mail", err, sizeof(err))))
            hc_log("mail: %s", err);
        if (!lead || leader_hold(lead) != 1) {
            released = 0;
            goto next;
        }
        /* Rows claimed by a process that died: send them again (see the
         * top of mail.c). Until that is done, nothing else is sent. */
        if (rc == DB_OK && !released && (rc = db_outbox_release_claims(c, &n)) == DB_OK) {
            released = 1;
            if (n > 0)
                hc_log("mail: %d message(s) were being sent when hubcast stopped; sending them again", n);
        }
        if (rc == DB_OK && (rc = load_cfg(c, conf, &s)) == DB_OK && s.url[0] && hc_now() >= pause_until)
            while (!atomic_load(&mail_stopping) && (rc = deliver_one(c, &s, &out, &pause_until)) == 1)
                ;
        if (rc < 0)
            hc_log("mail: the outbox cannot be read or written (%s); trying again shortly", db_rc_name(rc));
next:
        pthread_mutex_lock(&mail_lock);
        if (!atomic_load(&mail_stopping))
            hc_cond_wait_seconds(&mail_wake, &mail_lock, 1);
        pthread_mutex_unlock(&mail_lock);
    }
    if (out.pending)
        record(c, &out);   /* a last try; left claimed, the next start sends it again */
    leader_close(lead);
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

