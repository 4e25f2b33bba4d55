/*
 * auth.h - accounts: Argon2id passwords, sessions (cookie), API tokens
 * (Bearer), CSRF checks, login rate limits, invite and setup links.
 */
#ifndef HUBCAST_AUTH_H
#define HUBCAST_AUTH_H

#include <stdint.h>
#include <time.h>
#include <jansson.h>

struct req;
struct catalog;

#define SESSION_COOKIE     "hc_session"
#define SESSION_IDLE       (14 * 24 * 3600)
#define SESSION_ABSOLUTE   (30 * 24 * 3600)
#define TOKEN_CHARS        64

/* Fill r->user / r->authed from a Bearer token or the session cookie. */
void auth_resolve(struct req *r);
/* For a state-changing request: same-origin check, and the CSRF token for
 * cookie sessions when need_token. 1 = allowed. */
int auth_csrf_ok(struct req *r, int need_token);

/* Argon2id hash into out (crypto_pwhash_STRBYTES). 0 on success. */
int auth_hash_password(const char *pw, char *out, size_t outsz);
/* 1 if pw matches; *rehash set when the stored parameters are outdated. */
int auth_check_password(const char *hash, const char *pw, int *rehash);
/* Minimum rules for a new password; returns a message or NULL if fine. */
const char *auth_password_problem(const char *pw);

/* New session for user_id; token (for the cookie) and csrf filled. */
int64_t auth_session_create(struct catalog *c, int64_t user_id, char *token, size_t tokensz,
                            char *csrf, size_t csrfsz);
/* "hc_session=...; Path=/; HttpOnly; SameSite=Lax[; Secure]; Max-Age=..." */
void auth_session_cookie(struct req *r, const char *token, char *out, size_t outsz);

/* New API token: returns its id and writes the token ("hc_...") to out. */
int64_t auth_token_create(struct catalog *c, int64_t user_id, const char *label,
                          char *out, size_t outsz);

/* Invite/setup/reset link token; returns the invite id. */
int64_t auth_invite_create(struct catalog *c, const char *purpose, const char *email,
                           const char *name, const char *role, int64_t invited_by,
                           int ttl_seconds, char *token, size_t tokensz);

/* The unused, unexpired invite of this purpose that token opens (columns
 * id, email, name, role), or NULL. */
json_t *auth_invite_find(struct catalog *c, const char *token, const char *purpose);

/* Login rate limiting: 0 = allowed, else seconds to wait. */
int  auth_rate_check(const char *ip, const char *email);
void auth_rate_record(const char *ip, const char *email, int success);

#endif
