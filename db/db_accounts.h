/*
 * db_accounts.h - the data layer for people and how they sign in: users,
 * sessions (cookies), API tokens, and the one-time links (invites, password
 * resets, the first-run setup link). Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL. Secrets arrive here already
 * hashed (32-byte BLAKE2b, see auth.c): the catalog never holds one.
 * Not here: password hashing, cookies and CSRF (src/auth.c), JSON (src/api.c).
 */
#ifndef HUBCAST_DB_ACCOUNTS_H
#define HUBCAST_DB_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

/*
 * Who someone is. A route needs at least one of these (ROLE_ANON: anyone);
 * a person is ROLE_MEMBER or ROLE_ADMIN. Compared with < and >=.
 */
enum role {
    ROLE_ANON = 0,     /* not signed in (routes only; never a person's role) */
    ROLE_MEMBER,       /* signed in */
    ROLE_ADMIN         /* signed in and may administer */
};
/* "member" / "admin" (the catalog's and the API's spelling); "anonymous". */
const char *db_role_name(enum role r);
/* ROLE_MEMBER or ROLE_ADMIN from "member"/"admin": DB_OK, else DB_INVALID. */
int db_role_parse(const char *s, enum role *out);

#define DB_TOKEN_HASH_LEN 32      /* bytes of a hashed secret */
#define DB_EMAIL_MAX      256     /* 254 bytes of address + NUL, rounded */
#define DB_NAME_MAX       256
#define DB_TZ_MAX         64
#define DB_PWHASH_MAX     128     /* crypto_pwhash_STRBYTES */
#define DB_CSRF_MAX       64
#define DB_LANG_MAX       8       /* "en", "fr" */
#define DB_AVATAR_MAX     64      /* "<user>-<32 hex>.jpg" */

struct db_user {
    int64_t   id;
    char      email[DB_EMAIL_MAX];      /* unique, compared without case */
    char      name[DB_NAME_MAX];
    char      title[DB_NAME_MAX];       /* "" when not given */
    char      team[DB_NAME_MAX];        /* "" when not given */
    enum role role;                     /* ROLE_MEMBER or ROLE_ADMIN */
    char      time_zone[DB_TZ_MAX];     /* IANA name, "UTC" by default */
    char      notify_updates[16];       /* "immediate", "digest" or "off" */
    int       notify_reminders;         /* 0/1 */
    int       unsubscribed;             /* 0/1: no mail at all */
    int       deactivated;              /* 0/1: cannot sign in */
    int64_t   created_at;               /* Unix seconds */
    char      password_hash[DB_PWHASH_MAX]; /* "" when no password was set */
    char      lang[DB_LANG_MAX];        /* "en" or "fr": the language the server writes in */
    char      avatar[DB_AVATAR_MAX];    /* the picture's file in DATA/avatars, "" when none */
};

/* Is s a language a person can have ("en", "fr")? 1 or 0. */
int db_lang_ok(const char *s);

/* DB_OK with *out filled, DB_NOTFOUND, or a negative db_rc. */
int db_user_get(struct catalog *c, int64_t id, struct db_user *out);
int db_user_get_by_email(struct catalog *c, const char *email, struct db_user *out);
/*
 * Set (name) or clear (NULL) a person's picture in one transaction; *old
 * receives the file name it replaces ("" when none), which the caller
 * removes. DB_OK, DB_NOTFOUND or a negative db_rc.
 */
int db_user_avatar_set(struct catalog *c, int64_t id, const char *name, char old[DB_AVATAR_MAX]);
/* Number of accounts (deactivated ones too) into *n: DB_OK or negative. */
int db_user_count(struct catalog *c, int64_t *n);
/* Every account, by id: DB_OK with *out (caller frees, NULL when *n is 0). */
int db_user_list(struct catalog *c, struct db_user **out, size_t *n);
/*
 * New account from u's email, name, title, team, role, password_hash (""
 * for none), lang ("" for "en") and created_at. DB_OK with *id set,
 * DB_CONSTRAINT when the email is taken or lang is not one we know, or
 * another negative db_rc; nothing is written on failure.
 */
int db_user_insert(struct catalog *c, const struct db_user *u, int64_t *id);
/* Replace the password hash (a rehash after sign-in). DB_OK, DB_NOTFOUND or negative. */
int db_user_set_password(struct catalog *c, int64_t id, const char *password_hash);
/* The language person id reads ("en" or "fr") into out: DB_OK, DB_NOTFOUND or negative. */
int db_user_lang(struct catalog *c, int64_t id, char out[DB_LANG_MAX]);

/* What a person may change about themselves; NULL / -1 = unchanged. */
struct db_user_patch {
    const char *name, *title, *team, *time_zone, *notify_updates;
    const char *lang;                   /* "en" or "fr" (DB_CONSTRAINT otherwise) */
    int         notify_reminders;       /* 0/1, -1 unchanged */
    int         unsubscribed;           /* 0/1, -1 unchanged */
    const char *password_hash;          /* a new password: every session but keep_session ends */
    int64_t     keep_session;
};
/* All of p in one transaction: DB_OK, DB_NOTFOUND, or negative (nothing changed;
 * DB_CONSTRAINT for a lang or notify_updates the catalog does not take). */
int db_user_update(struct catalog *c, int64_t id, const struct db_user_patch *p);
/*
 * What an administrator changes: role (NULL = unchanged) and deactivated
 * (-1 = unchanged; deactivating ends the person's sessions). One
 * transaction: DB_OK, DB_NOTFOUND, or negative (nothing changed).
 */
int db_user_admin_update(struct catalog *c, int64_t id, const enum role *role, int deactivated);

/* A line of the people directory. */
struct db_person {
    struct db_user user;                /* password_hash left empty */
    char    latest_week[16];            /* ISO week of the latest ready update, "" if none */
    int64_t latest_update;              /* id of the latest ready update, 0 if none */
};
/*
 * The directory: everyone, active people first, by name. It reads the
 * updates table too (each person's latest *ready* update and its week),
 * which the people page shows next to each name. DB_OK with *out (caller
 * frees) or negative.
 */
int db_people_list(struct catalog *c, struct db_person **out, size_t *n);

/* ---- sessions ---- */

/* A live session with its person (active accounts only). */
struct db_session {
    int64_t        id;
    char           csrf[DB_CSRF_MAX];
    int64_t        created_at, last_seen;   /* Unix seconds */
    struct db_user user;
};
/* DB_OK with *id, DB_CONSTRAINT (the hash exists, or no such user) or negative. */
int db_session_create(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                      int64_t user_id, const char *csrf, int64_t now, int64_t *id);
/* The session of this token hash whose person is active: DB_OK, DB_NOTFOUND or negative. */
int db_session_find(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    struct db_session *out);
/* last_seen = now. DB_OK, DB_NOTFOUND or negative. */
int db_session_touch(struct catalog *c, int64_t id, int64_t now);
/* End one session: DB_OK, DB_NOTFOUND or negative. */
int db_session_delete(struct catalog *c, int64_t id);

/* ---- API tokens ---- */

struct db_token {
    int64_t id;
    int64_t user_id;
    char    label[DB_NAME_MAX];
    int64_t created_at;
    int64_t last_used;                  /* 0 when never used */
};
/* DB_OK with *id, DB_CONSTRAINT (the hash exists, or no such user) or negative. */
int db_token_create(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    int64_t user_id, const char *label, int64_t now, int64_t *id);
/* The token of this hash whose person is active, with the person. */
int db_token_find(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                  struct db_token *tok, struct db_user *user);
/* last_used = now, written at most once a minute. DB_OK or negative. */
int db_token_touch(struct catalog *c, int64_t id, int64_t now);
/* A person's tokens by id: DB_OK with *out (caller frees) or negative. */
int db_token_list(struct catalog *c, int64_t user_id, struct db_token **out, size_t *n);
/* Delete token id if it belongs to user_id: DB_OK, DB_NOTFOUND or negative. */
int db_token_delete(struct catalog *c, int64_t id, int64_t user_id);

/* ---- one-time links: invites, password resets, first-run setup ---- */

enum db_link { DB_LINK_INVITE, DB_LINK_RESET, DB_LINK_SETUP };

struct db_invite {
    int64_t      id;
    enum db_link purpose;
    char         email[DB_EMAIL_MAX];   /* "" for the setup link */
    char         name[DB_NAME_MAX];
    enum role    role;                  /* the role the account gets */
    int64_t      invited_by;            /* 0 when none */
    int64_t      created_at, expires_at;
    char         lang[DB_LANG_MAX];     /* "en" or "fr": what its mail is written in ("" = "en") */
};
/* Store a link from in (all but id). DB_OK with *id, or negative. */
int db_invite_create(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                     const struct db_invite *in, int64_t *id);
/* The unused link of this purpose and hash that has not expired at now:
 * DB_OK, DB_NOTFOUND (unknown, used or expired) or negative. */
int db_invite_find(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                   enum db_link purpose, int64_t now, struct db_invite *out);
/* Remove a link that was never handed out: DB_OK, DB_NOTFOUND or negative. */
int db_invite_delete(struct catalog *c, int64_t id);

/* An invite not used yet, as the administrator's list shows it. */
struct db_pending_invite {
    struct db_invite invite;
    char    invited_by_name[DB_NAME_MAX];   /* "" when the inviter is gone or none */
    int     expired;                        /* 1 when expires_at < now */
};
/*
 * Invites (purpose invite) not used yet whose address has no account,
 * newest first, expired ones too (flagged, so they can be sent again).
 * DB_OK with *out (caller frees; NULL when *n is 0) or negative.
 */
int db_invite_list_pending(struct catalog *c, int64_t now, struct db_pending_invite **out, size_t *n);
/* The unused invite (purpose invite) for this address (compared without
 * case), expired or not, the newest if several: DB_OK, DB_NOTFOUND or negative. */
int db_invite_pending_by_email(struct catalog *c, const char *email, struct db_invite *out);
/* The unused invite (purpose invite) with this id, expired or not: DB_OK, DB_NOTFOUND or negative. */
int db_invite_get_pending(struct catalog *c, int64_t id, struct db_invite *out);
/*
 * Send an unused invite again: its link becomes hash (the old one stops
 * working), created_at = now, expires_at = now + ttl, its language lang
 * (NULL: unchanged). DB_OK with *out filled as it is now, DB_NOTFOUND (no
 * unused invite with this id), or negative with nothing changed.
 */
int db_invite_renew(struct catalog *c, int64_t id, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    int64_t now, int64_t ttl, const char *lang, struct db_invite *out);
/* Withdraw an unused invite (its link stops working): DB_OK, DB_NOTFOUND or negative. */
int db_invite_revoke(struct catalog *c, int64_t id);
/*
 * Open an account with an invite or the setup link, in one transaction: the
 * link is checked (unused, unexpired) and marked used, and the account made.
 * An invite's account gets the invited email and role whatever u says; the
 * setup link makes an administrator with u's email, and only while there is
 * no account at all. u->name "" means the invite's name, else the email.
 * Returns DB_OK with *uid, DB_NOTFOUND (no such usable link), DB_INVALID
 * (setup when accounts exist), DB_CONSTRAINT (the email has an account), or
 * another negative db_rc; nothing is written unless DB_OK.
 */
int db_invite_redeem(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                     enum db_link purpose, const struct db_user *u, int64_t now, int64_t *uid);
/*
 * The first-run setup: as db_invite_redeem with DB_LINK_SETUP, and, when
 * company_name is not NULL, the company's name saved in the same
 * transaction (nothing is written unless DB_OK).
 */
int db_setup_redeem(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                    const struct db_user *u, const char *company_name, int64_t now, int64_t *uid);

/*
 * What the first-run checklist of an administrator shows, derived from the
 * catalog (nothing stored): the purpose is written (not empty), someone
 * was invited (an invite was ever made, or there is more than one
 * account), and user_id has recorded an update (one that did not fail).
 */
struct db_onboarding {
    int purpose_written;
    int invited_someone;
    int recorded_first_update;
};
/* DB_OK with *out filled, or negative. */
int db_onboarding_get(struct catalog *c, int64_t user_id, struct db_onboarding *out);

/*
 * A password reset, in one transaction: the reset link is checked and used,
 * the active person it was sent to gets password_hash, and everything that
 * let anyone act as them ends: sessions, API tokens, other reset links.
 * DB_OK with *tokens_revoked (may be NULL), DB_NOTFOUND (no usable link or
 * no active account), or negative with nothing changed.
 */
int db_user_reset_password(struct catalog *c, const unsigned char hash[DB_TOKEN_HASH_LEN],
                           const char *password_hash, int64_t now, int *tokens_revoked);

/* Remove every setup link (one live setup link at a time). DB_OK or a
 * negative db_rc. */
int db_invite_drop_setup(struct catalog *c);

#endif
