/*
 * mail_send.c - delivery of the outbox over SMTP with libcurl: the
 * configuration (the settings table overrides the config), one message at
 * a time with STARTTLS or TLS, retries with backoff, and the delivery
 * thread of `hubcast serve`. See mail.c for the exactly-once argument.
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

static void load_cfg(struct catalog *c, const struct conf *conf, struct smtp_cfg *s)
{
    char *url = cat_setting(c, "smtp_url"), *from = cat_setting(c, "mail_from");
    char *base = cat_setting(c, "mail_retry_base"), *at;
    long rb = 30;
    size_t n;

    memset(s, 0, sizeof(*s));
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
    u = mail_user_row(c, uid);
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

