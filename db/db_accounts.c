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

int db_user_reset_password(struct catalog *c, int64_t invite_id, const char *email,
                           const char *password_hash, int64_t now, int64_t *uid)
{
    int n, rc;

    *uid = 0;
    rc = cat_get_int(c, uid, "SELECT id FROM users WHERE email = ? AND deactivated = 0", "s", email);
    if (rc != DB_OK)
        return rc;
    if ((n = cat_exec(c, "UPDATE users SET password_hash = ? WHERE id = ?", "sI", password_hash, *uid)) < 0 ||
        (n = cat_exec(c, "UPDATE invites SET used_at = ? WHERE id = ? AND used_at IS NULL", "II",
                      now, invite_id)) < 0)
        return cat_rc(c);
    if (n == 0)
        return DB_NOTFOUND;
    if (cat_exec(c, "DELETE FROM sessions WHERE user_id = ?", "I", *uid) < 0 ||
        cat_exec(c, "UPDATE invites SET used_at = ? WHERE purpose = 'reset' AND used_at IS NULL "
                    "AND email = (SELECT email FROM users WHERE id = ?)", "II", now, *uid) < 0)
        return cat_rc(c);
    return DB_OK;
}
