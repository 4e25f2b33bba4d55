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
#include <sodium.h>

#include "auth.h"
#include "conf.h"
#include "util.h"

static void fill_user(struct user *u, const struct db_user *d)
{
    memset(u, 0, sizeof(*u));
    u->id = d->id;
    hc_strlcpy(u->email, d->email, sizeof(u->email));
    hc_strlcpy(u->name, d->name, sizeof(u->name));
    u->role = d->role;
    hc_strlcpy(u->time_zone, d->time_zone, sizeof(u->time_zone));
    hc_strlcpy(u->lang, d->lang, sizeof(u->lang));
}

int auth_resolve_bearer(struct catalog *c, const char *token, struct user *u)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_token tok;
    struct db_user du;
    int rc;

    memset(u, 0, sizeof(*u));
    if (!token || strlen(token) > CREDENTIAL_MAX)
        return DB_NOTFOUND;
    hc_token_hash(token, h);
    if ((rc = db_token_find(c, h, &tok, &du)) != DB_OK)
        return rc;
    fill_user(u, &du);
    u->token_id = tok.id;
    /* Last use is for the token list; failing to note it does not refuse the call. */
    db_token_touch(c, tok.id, (int64_t)hc_now());
    return DB_OK;
}

int auth_resolve_session(struct catalog *c, const char *cookie, struct user *u)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_session s;
    int64_t now = (int64_t)hc_now();
    int rc;

    memset(u, 0, sizeof(*u));
    if (!cookie || !*cookie || strlen(cookie) > CREDENTIAL_MAX)
        return DB_NOTFOUND;
    hc_token_hash(cookie, h);
    if ((rc = db_session_find(c, h, &s)) != DB_OK)
        return rc;
    if (now - s.created_at > SESSION_ABSOLUTE || now - s.last_seen > SESSION_IDLE) {
        db_session_delete(c, s.id);
        return DB_NOTFOUND;
    }
    fill_user(u, &s.user);
    u->session_id = s.id;
    hc_strlcpy(u->csrf, s.csrf, sizeof(u->csrf));
    if (now - s.last_seen > 60)
        db_session_touch(c, s.id, now);
    return DB_OK;
}

static int same_origin(const struct auth_origin *o)
{
    const char *pub = o->public_url ? o->public_url : "";
    char buf[600];

    if (pub[0]) {
        size_t n = strlen(pub);
        while (n && pub[n - 1] == '/')
            n--;
        if (strlen(o->origin) == n && !strncmp(o->origin, pub, n))
            return 1;
    }
    if (!o->host)
        return 0;
    snprintf(buf, sizeof(buf), "http://%s", o->host);
    if (!strcmp(o->origin, buf))
        return 1;
    snprintf(buf, sizeof(buf), "https://%s", o->host);
    return !strcmp(o->origin, buf);
}

int auth_csrf_ok(const struct user *u, const struct auth_origin *o, int need_token)
{
    const char *site = o->sec_fetch_site;

    if (u && !u->session_id)
        return 1;   /* Bearer token: no ambient authority to abuse */
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return 0;
    if (o->origin && (!strcmp(o->origin, "null") || !same_origin(o)))
        return 0;
    if (!u || !need_token)
        return 1;
    return o->csrf_token && u->csrf[0] && hc_streq_ct(o->csrf_token, u->csrf);
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
    unsigned char h[DB_TOKEN_HASH_LEN];
    int64_t id;
    int rc;

    hc_random_token(token, tokensz, 32);
    hc_random_token(csrf, csrfsz, 24);
    hc_token_hash(token, h);
    rc = db_session_create(c, h, user_id, csrf, (int64_t)hc_now(), &id);
    return rc == DB_OK ? id : (rc < 0 ? rc : DB_ERROR);
}

void auth_session_cookie(const struct conf *conf, const char *token, char *out, size_t outsz)
{
    const char *mode = conf->secure_cookies;
    int secure = !strcmp(mode, "on") ||
                 (!strcmp(mode, "auto") && !strncmp(conf->public_url, "https://", 8));

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
    unsigned char h[DB_TOKEN_HASH_LEN];
    int64_t id;
    int rc;

    hc_random_token(raw, sizeof(raw), 32);
    snprintf(out, outsz, "hc_%s", raw);
    hc_token_hash(out, h);
    rc = db_token_create(c, h, user_id, label, (int64_t)hc_now(), &id);
    return rc == DB_OK ? id : (rc < 0 ? rc : DB_ERROR);
}

int64_t auth_invite_create(struct catalog *c, enum db_link purpose, const char *email,
                           const char *name, enum role role, int64_t invited_by, const char *lang,
                           int ttl_seconds, char *token, size_t tokensz)
{
    unsigned char h[DB_TOKEN_HASH_LEN];
    struct db_invite in;
    int64_t id;
    int rc;

    memset(&in, 0, sizeof(in));
    in.purpose = purpose;
    hc_strlcpy(in.email, email ? email : "", sizeof(in.email));
    hc_strlcpy(in.name, name ? name : "", sizeof(in.name));
    in.role = role;
    in.invited_by = invited_by;
    hc_strlcpy(in.lang, lang ? lang : "en", sizeof(in.lang));
    in.created_at = (int64_t)hc_now();
    in.expires_at = in.created_at + ttl_seconds;
    hc_random_token(token, tokensz, 32);
    hc_token_hash(token, h);
    rc = db_invite_create(c, h, &in, &id);
    return rc == DB_OK ? id : (rc < 0 ? rc : DB_ERROR);
}

int auth_invite_find(struct catalog *c, const char *token, enum db_link purpose,
                     struct db_invite *out)
{
    unsigned char h[DB_TOKEN_HASH_LEN];

    hc_token_hash(token, h);
    return db_invite_find(c, h, purpose, (int64_t)hc_now(), out);
}

int auth_invite_redeem(struct catalog *c, const char *token, enum db_link purpose,
                       const struct db_user *u, int64_t *uid)
{
    unsigned char h[DB_TOKEN_HASH_LEN];

    hc_token_hash(token, h);
    return db_invite_redeem(c, h, purpose, u, (int64_t)hc_now(), uid);
}

int auth_setup_redeem(struct catalog *c, const char *token, const struct db_user *u,
                      const char *company_name, int64_t *uid)
{
    unsigned char h[DB_TOKEN_HASH_LEN];

    hc_token_hash(token, h);
    return db_setup_redeem(c, h, u, company_name, (int64_t)hc_now(), uid);
}

int auth_invite_renew(struct catalog *c, int64_t id, int ttl_seconds, const char *lang, char *token,
                      size_t tokensz, struct db_invite *out)
{
    unsigned char h[DB_TOKEN_HASH_LEN];

    hc_random_token(token, tokensz, 32);
    hc_token_hash(token, h);
    return db_invite_renew(c, id, h, (int64_t)hc_now(), ttl_seconds, lang, out);
}

int auth_reset_password(struct catalog *c, const char *token, const char *password_hash,
                        int *tokens_revoked)
{
    unsigned char h[DB_TOKEN_HASH_LEN];

    hc_token_hash(token, h);
    return db_user_reset_password(c, h, password_hash, (int64_t)hc_now(), tokens_revoked);
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
    time_t now = hc_now();
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
    time_t now = hc_now();
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
