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
 * Complete a password reset opened by the reset link invite_id, sent to
 * email: the active account with that address gets password_hash, the link
 * is used up, and so is every other open reset link of that person; every
 * session of theirs ends. Call inside a transaction (the link was checked
 * in it). DB_OK with *uid set, DB_NOTFOUND (no active account with that
 * address, or the link is gone), or a negative db_rc; on failure the caller
 * rolls back.
 */
int db_user_reset_password(struct catalog *c, int64_t invite_id, const char *email,
                           const char *password_hash, int64_t now, int64_t *uid);

#endif
