/*
 * auth.h - accounts: Argon2id passwords, sessions (cookie), API tokens
 * (Bearer), CSRF checks, login rate limits, invite, reset and setup links.
 * auth resolves credential strings to a struct user; it knows nothing of
 * HTTP requests (http.c hands it the header values).
 */
#ifndef HUBCAST_AUTH_H
#define HUBCAST_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "db_accounts.h"
#include "user.h"

struct catalog;
struct conf;

#define SESSION_COOKIE     "hc_session"
#define SESSION_IDLE       (14 * 24 * 3600)
#define SESSION_ABSOLUTE   (30 * 24 * 3600)
#define TOKEN_CHARS        64
#define CREDENTIAL_MAX     128            /* longest cookie or token looked up */
#define INVITE_TTL         (7 * 24 * 3600) /* an invite link lasts a week */
#define SETUP_TTL          (24 * 3600)     /* the first-run setup link, a day */

/*
 * Resolve an API token ("hc_...") or a session cookie value to the person
 * it belongs to. DB_OK with *u filled, DB_NOTFOUND (unknown, expired, or a
 * deactivated person: not signed in), or a negative db_rc (the catalog
 * failed: the caller answers 503/507, not 401). An expired session is
 * deleted; last-use times are kept up to date.
 */
int auth_resolve_bearer(struct catalog *c, const char *token, struct user *u);
int auth_resolve_session(struct catalog *c, const char *cookie, struct user *u);

/* What a state-changing request says about where it comes from. */
struct auth_origin {
    const char *sec_fetch_site;     /* Sec-Fetch-Site header or NULL */
    const char *origin;             /* Origin header or NULL */
    const char *host;               /* Host header or NULL */
    const char *public_url;         /* --public-url, "" when unset */
    const char *csrf_token;         /* X-CSRF-Token header or NULL */
};
/* Same-origin check, and the CSRF token for cookie sessions when
 * need_token. u is the caller (NULL when not signed in). 1 = allowed. */
int auth_csrf_ok(const struct user *u, const struct auth_origin *o, int need_token);

/* Argon2id hash into out (crypto_pwhash_STRBYTES). 0 on success. */
int auth_hash_password(const char *pw, char *out, size_t outsz);
/* 1 if pw matches; *rehash set when the stored parameters are outdated. */
int auth_check_password(const char *hash, const char *pw, int *rehash);
/* Minimum rules for a new password; returns a message or NULL if fine. */
const char *auth_password_problem(const char *pw);

/* New session for user_id; token (for the cookie) and csrf filled.
 * Returns the session id (> 0) or a negative db_rc. */
int64_t auth_session_create(struct catalog *c, int64_t user_id, char *token, size_t tokensz,
                            char *csrf, size_t csrfsz);
/* "hc_session=...; Path=/; HttpOnly; SameSite=Lax[; Secure]; Max-Age=..."
 * (token NULL or "": the cookie that ends the session). */
void auth_session_cookie(const struct conf *conf, const char *token, char *out, size_t outsz);

/* New API token: returns its id (> 0) or a negative db_rc, and writes the
 * token ("hc_...") to out. */
int64_t auth_token_create(struct catalog *c, int64_t user_id, const char *label,
                          char *out, size_t outsz);

/* Invite/setup/reset link token: returns the link's id (> 0) or a
 * negative db_rc; the token for the link is written to token. lang ("en",
 * "fr"; NULL = "en") is the language its mail is written in. */
int64_t auth_invite_create(struct catalog *c, enum db_link purpose, const char *email,
                           const char *name, enum role role, int64_t invited_by, const char *lang,
                           int ttl_seconds, char *token, size_t tokensz);
/* The usable link of this purpose that token opens: as db_invite_find. */
int auth_invite_find(struct catalog *c, const char *token, enum db_link purpose,
                     struct db_invite *out);
/* Open an account with an invite or setup token: as db_invite_redeem. */
int auth_invite_redeem(struct catalog *c, const char *token, enum db_link purpose,
                       const struct db_user *u, int64_t *uid);
/* The first-run setup with its token: as db_setup_redeem. */
int auth_setup_redeem(struct catalog *c, const char *token, const struct db_user *u,
                      const char *company_name, int64_t *uid);
/* Send invite id again with a fresh link written to token (the old link
 * stops working): as db_invite_renew, the new link lasting ttl_seconds,
 * written in lang from now on (NULL: the language it had). */
int auth_invite_renew(struct catalog *c, int64_t id, int ttl_seconds, const char *lang, char *token,
                      size_t tokensz, struct db_invite *out);
/* Set a new password with a reset token: as db_user_reset_password (the
 * person's sessions and API tokens end; *tokens_revoked says how many). */
int auth_reset_password(struct catalog *c, const char *token, const char *password_hash,
                        int *tokens_revoked);

/* Login rate limiting: 0 = allowed, else seconds to wait. */
int  auth_rate_check(const char *ip, const char *email);
void auth_rate_record(const char *ip, const char *email, int success);

#endif
