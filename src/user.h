/*
 * user.h - who is making a request: the person a session cookie or an API
 * token belongs to, as auth.c resolves it and handlers read it from
 * struct req. Needs no HTTP and no catalog.
 */
#ifndef HUBCAST_USER_H
#define HUBCAST_USER_H

#include <stdint.h>

#include "db_accounts.h"    /* enum role */

struct user {
    int64_t   id;
    char      email[DB_EMAIL_MAX];
    char      name[DB_NAME_MAX];
    enum role role;                 /* ROLE_MEMBER or ROLE_ADMIN */
    char      time_zone[DB_TZ_MAX];
    char      lang[DB_LANG_MAX];    /* "en" or "fr": the language answers are written in */
    int64_t   session_id;           /* 0 when authenticated by API token */
    int64_t   token_id;             /* 0 when authenticated by session */
    char      csrf[DB_CSRF_MAX];    /* the session's CSRF token, "" for API tokens */
};

#endif
