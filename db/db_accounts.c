/*
 * db_accounts.c - users, sessions, API tokens, invites/resets/setup links: every SQL statement about them.
 */
#include "config.h"

#include "db_accounts.h"

/* ---- used by `hubcast serve` (first-run setup link) and password resets ---- */

int db_user_count(struct catalog *c, int64_t *n)
{
    return cat_get_int(c, n, "SELECT COUNT(*) FROM users", "");
}

int db_invite_drop_setup(struct catalog *c)
{
    return cat_exec(c, "DELETE FROM invites WHERE purpose = 'setup'", "") < 0 ? cat_rc(c) : DB_OK;
}

/* The writes of a reset, inside db_user_reset_password's transaction. */
static int reset_in_tx(struct catalog *c, const unsigned char *token_hash, const char *password_hash,
                       int64_t now, int64_t *uid)
{
    int64_t invite_id;
    int rc;

    rc = cat_get_int(c, &invite_id, "SELECT id FROM invites WHERE token_hash = ? AND purpose = 'reset' "
                                    "AND used_at IS NULL AND expires_at >= ?", "bI", token_hash, 32, now);
    if (rc != DB_OK)
        return rc;
    rc = cat_get_int(c, uid, "SELECT u.id FROM users u JOIN invites i ON u.email = i.email "
                             "WHERE i.id = ? AND u.deactivated = 0", "I", invite_id);
    if (rc != DB_OK)
        return rc;
    if (cat_exec(c, "UPDATE users SET password_hash = ? WHERE id = ?", "sI", password_hash, *uid) < 0 ||
        cat_exec(c, "UPDATE invites SET used_at = ? WHERE id = ?", "II", now, invite_id) < 0 ||
        cat_exec(c, "DELETE FROM sessions WHERE user_id = ?", "I", *uid) < 0 ||
        cat_exec(c, "UPDATE invites SET used_at = ? WHERE purpose = 'reset' AND used_at IS NULL "
                    "AND email = (SELECT email FROM users WHERE id = ?)", "II", now, *uid) < 0)
        return cat_rc(c);
    return DB_OK;
}

int db_user_reset_password(struct catalog *c, const unsigned char token_hash[32],
                           const char *password_hash, int64_t now, int64_t *uid)
{
    int rc;

    *uid = 0;
    if ((rc = db_begin(c)) < 0)
        return rc;
    if ((rc = reset_in_tx(c, token_hash, password_hash, now, uid)) != DB_OK) {
        db_rollback(c);
        *uid = 0;
        return rc;
    }
    if ((rc = db_commit(c)) < 0)
        *uid = 0;
    return rc;
}
