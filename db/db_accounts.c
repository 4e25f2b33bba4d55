/*
 * db_accounts.c - users, sessions, API tokens, invites/resets/setup links: every SQL statement about them.
 */
#include "config.h"

#include "db_accounts.h"
