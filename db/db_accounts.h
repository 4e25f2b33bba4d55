/*
 * db_accounts.h - the data layer for users, sessions, API tokens, invites/resets/setup links. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_ACCOUNTS_H
#define HUBCAST_DB_ACCOUNTS_H

#include "catalog.h"

#endif
