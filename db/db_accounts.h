/*
 * db_accounts.h - the data layer for users, sessions, API tokens, invites/resets/setup links. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_ACCOUNTS_H
#define HUBCAST_DB_ACCOUNTS_H

#include "catalog.h"


/* ---- used by `hubcast serve` (first-run setup link) and password resets
 * (src/mail_api.c) ---- */

/* How many accounts exist (any state). DB_OK with *n, or a negative db_rc. */
int db_user_count(struct catalog *c, int64_t *n);
/* Remove every setup link (one live setup link at a time). DB_OK or a
 * negative db_rc. */
int db_invite_drop_setup(struct catalog *c);
/*
 * Complete a password reset, in one transaction: the open (unused,
 * unexpired at now) reset link whose token hashes to token_hash is used
 * up, the active account with the link's address gets password_hash, every
 * other open reset link of that person is used up and every session of
 * theirs ends. DB_OK with *uid set; DB_NOTFOUND (no such open link, or no
 * active account with its address; nothing changed); or a negative db_rc
 * (nothing changed).
 */
int db_user_reset_password(struct catalog *c, const unsigned char token_hash[32],
                           const char *password_hash, int64_t now, int64_t *uid);

#endif
