/*
 * auth.c - who is calling. Secrets (session cookies, API tokens, invite
 * links) are 32 random bytes handed to the user once; the catalog keeps
 * only their BLAKE2b hash, so a copy of the database opens no account.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "auth.h"
#include "catalog.h"
#include "conf.h"
#include "http.h"
#include "util.h"

static void fill_user(struct req *r, json_t *row)
{
    hc_strlcpy(r->user.email, json_string_value(json_object_get(row, "email")), sizeof(r->user.email));
    hc_strlcpy(r->user.name, json_string_value(json_object_get(row, "name")), sizeof(r->user.name));
    hc_strlcpy(r->user.role, json_string_value(json_object_get(row, "role")), sizeof(r->user.role));
    hc_strlcpy(r->user.time_zone, json_string_value(json_object_get(row, "time_zone")), sizeof(r->user.time_zone));
    r->user.id = json_integer_value(json_object_get(row, "id"));
    r->authed = 1;
}

void auth_resolve(struct req *r)
{
    const char *authz = http_get_header(r, "Authorization");
    const char *cookie;
    unsigned char h[32];
    json_t *row;
    time_t now = hc_now();

    memset(&r->user, 0, sizeof(r->user));
    r->authed = 0;
    if (authz && !strncasecmp(authz, "Bearer ", 7)) {
        const char *tok = authz + 7;
        if (strlen(tok) > 128)
            return;
        hc_token_hash(tok, h);
        row = cat_row(r->cat,
            "SELECT t.id AS token_id, u.id, u.email, u.name, u.role, u.time_zone "
            "FROM api_tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.token_hash = ? AND u.deactivated = 0", "b", h, 32);
        if (row) {
            fill_user(r, row);
            r->user.token_id = json_integer_value(json_object_get(row, "token_id"));
            json_decref(row);
            cat_exec(r->cat, "UPDATE api_tokens SET last_used = ? WHERE id = ? AND "
                             "(last_used IS NULL OR last_used < ?)",
                     "III", (int64_t)now, r->user.token_id, (int64_t)now - 60);
        }
        return;
    }
    cookie = http_get_cookie(r, SESSION_COOKIE);
    if (!cookie || strlen(cookie) > 128)
        return;
    hc_token_hash(cookie, h);
    row = cat_row(r->cat,
        "SELECT s.id AS session_id, s.csrf, s.created_at, s.last_seen, "
        "u.id, u.email, u.name, u.role, u.time_zone "
        "FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND u.deactivated = 0", "b", h, 32);
    if (!row)
        return;
    {
        int64_t created = json_integer_value(json_object_get(row, "created_at"));
        int64_t seen = json_integer_value(json_object_get(row, "last_seen"));
        int64_t sid = json_integer_value(json_object_get(row, "session_id"));

        if (now - created > SESSION_ABSOLUTE || now - seen > SESSION_IDLE) {
            cat_exec(r->cat, "DELETE FROM sessions WHERE id = ?", "I", sid);
            json_decref(row);
            return;
        }
        fill_user(r, row);
        r->user.session_id = sid;
        hc_strlcpy(r->user.csrf, json_string_value(json_object_get(row, "csrf")), sizeof(r->user.csrf));
        if (now - seen > 60)
            cat_exec(r->cat, "UPDATE sessions SET last_seen = ? WHERE id = ?", "II", (int64_t)now, sid);
    }
    json_decref(row);
}

static int same_origin(struct req *r, const char *origin)
{
    const char *host = http_get_header(r, "Host");
    const char *pub = r->conf->public_url;
    char buf[600];

    if (pub[0]) {
        size_t n = strlen(pub);
        while (n && pub[n - 1] == '/')
            n--;
        if (strlen(origin) == n && !strncmp(origin, pub, n))
            return 1;
    }
    if (!host)
        return 0;
    snprintf(buf, sizeof(buf), "http://%s", host);
    if (!strcmp(origin, buf))
        return 1;
    snprintf(buf, sizeof(buf), "https://%s", host);
    return !strcmp(origin, buf);
}

int auth_csrf_ok(struct req *r, int need_token)
{
    const char *site = http_get_header(r, "Sec-Fetch-Site");
    const char *origin = http_get_header(r, "Origin");
    const char *tok;

    if (r->authed && !r->user.session_id)
        return 1;   /* Bearer token: no ambient authority to abuse */
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return 0;
    if (origin && strcmp(origin, "null") != 0 && !same_origin(r, origin))
        return 0;
    if (origin && !strcmp(origin, "null"))
        return 0;
    if (!r->authed || !need_token)
        return 1;
    tok = http_get_header(r, "X-CSRF-Token");
    return tok && r->user.csrf[0] && hc_streq_ct(tok, r->user.csrf);
}

int auth_hash_password(const char *pw, char *out, size_t outsz)
{
    if (outsz < crypto_pwhash_STRBYTES)
        return -1;
    return crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

int auth_check_password(const char *hash, const char *pw, int *rehash)
{
    if (!hash || !*hash)
        return 0;
    if (crypto_pwhash_str_verify(hash, pw, strlen(pw)) != 0)
        return 0;
    if (rehash)
        *rehash = crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                 crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
    return 1;
}

const char *auth_password_problem(const char *pw)
{
    size_t n = strlen(pw);
    if (n < 8)
        return "the password must have at least 8 characters";
    if (n > 1024)
        return "the password must have at most 1024 characters";
    return NULL;
}

int64_t auth_session_create(struct catalog *c, int64_t user_id, char *token, size_t tokensz,
                            char *csrf, size_t csrfsz)
{
    unsigned char h[32];
    int64_t now = (int64_t)hc_now();

    hc_random_token(token, tokensz, 32);
    hc_random_token(csrf, csrfsz, 24);
    hc_token_hash(token, h);
    return cat_insert(c, "INSERT INTO sessions(token_hash, user_id, csrf, created_at, last_seen) "
                         "VALUES (?, ?, ?, ?, ?)", "bIsII", h, 32, user_id, csrf, now, now);
}

void auth_session_cookie(struct req *r, const char *token, char *out, size_t outsz)
{
    const char *mode = r->conf->secure_cookies;
    int secure = !strcmp(mode, "on") ||
                 (!strcmp(mode, "auto") && !strncmp(r->conf->public_url, "https://", 8));

    if (token && *token)
        snprintf(out, outsz, "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s",
                 SESSION_COOKIE, token, SESSION_ABSOLUTE, secure ? "; Secure" : "");
    else
        snprintf(out, outsz, "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0%s",
                 SESSION_COOKIE, secure ? "; Secure" : "");
}

int64_t auth_token_create(struct catalog *c, int64_t user_id, const char *label,
                          char *out, size_t outsz)
{
    char raw[TOKEN_CHARS];
    unsigned char h[32];

    hc_random_token(raw, sizeof(raw), 32);
    snprintf(out, outsz, "hc_%s", raw);
    hc_token_hash(out, h);
    return cat_insert(c, "INSERT INTO api_tokens(token_hash, user_id, label, created_at) "
                         "VALUES (?, ?, ?, ?)", "bIsI", h, 32, user_id, label ? label : "",
                      (int64_t)hc_now());
}

int64_t auth_invite_create(struct catalog *c, const char *purpose, const char *email,
                           const char *name, const char *role, int64_t invited_by,
                           int ttl_seconds, char *token, size_t tokensz)
{
    unsigned char h[32];
    int64_t now = (int64_t)hc_now();

    hc_random_token(token, tokensz, 32);
    hc_token_hash(token, h);
    return cat_insert(c, "INSERT INTO invites(token_hash, purpose, email, name, role, invited_by, "
                         "created_at, expires_at) VALUES (?, ?, ?, ?, ?, NULLIF(?, 0), ?, ?)",
                      "bssssIII", h, 32, purpose, email ? email : "", name ? name : "",
                      role ? role : "member", invited_by, now, now + ttl_seconds);
}

json_t *auth_invite_find(struct catalog *c, const char *token, const char *purpose)
{
    unsigned char h[32];

    hc_token_hash(token, h);
    return cat_row(c, "SELECT id, email, name, role FROM invites WHERE token_hash = ? AND purpose = ? "
                      "AND used_at IS NULL AND expires_at >= ?", "bsI", h, 32, purpose, (int64_t)hc_now());
}

/* ---- login rate limits: a small table of recent failures ---- */

#define RL_SLOTS       1024
#define RL_WINDOW      (15 * 60)
#define RL_MAX_ACCOUNT 5
#define RL_MAX_IP      20

struct rl_slot {
    char   key[200];
    int    failures;
    time_t first;
};

static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rl_slot rl[RL_SLOTS];

static struct rl_slot *rl_find(const char *key, int create, time_t now)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (int i = 0; i < 8; i++) {
        struct rl_slot *s = &rl[(h + (uint64_t)i) % RL_SLOTS];
        if (!strcmp(s->key, key)) {
            if (now - s->first > RL_WINDOW) {
                s->failures = 0;
                s->first = now;
            }
            return s;
        }
        if (create && (!s->key[0] || now - s->first > RL_WINDOW)) {
            hc_strlcpy(s->key, key, sizeof(s->key));
            s->failures = 0;
            s->first = now;
            return s;
        }
    }
    if (!create)
        return NULL;
    {   /* table crowded: reuse the oldest of the probed slots */
        struct rl_slot *s = &rl[h % RL_SLOTS];
        hc_strlcpy(s->key, key, sizeof(s->key));
        s->failures = 0;
        s->first = now;
        return s;
    }
}

static void rl_keys(const char *ip, const char *email, char *kip, char *kacct, size_t sz)
{
    snprintf(kip, sz, "ip:%s", ip);
    snprintf(kacct, sz, "acct:%s", email);
    for (char *p = kacct; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

int auth_rate_check(const char *ip, const char *email)
{
    char kip[200], kacct[200];
    time_t now = time(NULL);
    struct rl_slot *s;
    int wait = 0;

    rl_keys(ip, email, kip, kacct, sizeof(kip));
    pthread_mutex_lock(&rl_lock);
    if ((s = rl_find(kacct, 0, now)) && s->failures >= RL_MAX_ACCOUNT)
        wait = (int)(s->first + RL_WINDOW - now);
    if ((s = rl_find(kip, 0, now)) && s->failures >= RL_MAX_IP) {
        int w = (int)(s->first + RL_WINDOW - now);
        if (w > wait)
            wait = w;
    }
    pthread_mutex_unlock(&rl_lock);
    return wait > 0 ? wait : 0;
}

void auth_rate_record(const char *ip, const char *email, int success)
{
    char kip[200], kacct[200];
    time_t now = time(NULL);
    struct rl_slot *s;

    rl_keys(ip, email, kip, kacct, sizeof(kip));
    pthread_mutex_lock(&rl_lock);
    if (success) {
        if ((s = rl_find(kacct, 0, now)))
            s->failures = 0;
    } else {
        rl_find(kacct, 1, now)->failures++;
        rl_find(kip, 1, now)->failures++;
    }
    pthread_mutex_unlock(&rl_lock);
}
