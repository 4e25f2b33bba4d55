/*
 * db_outbox.h - the data layer of mail: the outbox (queueing, claiming for
 * delivery, marking sent / failed / to be retried, the admin's list), and
 * what messages are made of: the people they go to and the updates and
 * comments they are about. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 *
 * The outbox state machine, owned here:
 *
 *   pending, unclaimed --db_outbox_claim--> pending, claimed (attempts + 1)
 *   pending, claimed   --db_outbox_sent---> sent
 *                      --db_outbox_failed-> failed (given up, or cancelled)
 *                      --db_outbox_retry--> pending, unclaimed, next_try later
 *                      --db_outbox_unclaim> pending, unclaimed (attempts - 1:
 *                                           nothing reached the server)
 *   any claimed row    --db_outbox_release_claims (at start)--> unclaimed
 *
 * Any other move answers DB_INVALID and changes nothing; a row that does
 * not exist answers DB_NOTFOUND.
 *
 * Not here: what messages say (src/mail.c), when scheduled mail is due
 * (src/scheduler.c), participation numbers (db_habit.h).
 */
#ifndef HUBCAST_DB_OUTBOX_H
#define HUBCAST_DB_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define DB_OUTBOX_ADDR     256   /* an address, NUL included (the API takes 254 bytes) */
#define DB_OUTBOX_NAME     256   /* names, titles, teams (the API takes 200 bytes) */
#define DB_OUTBOX_SUBJECT  1024  /* a subject line, unencoded */
#define DB_OUTBOX_ERROR    512   /* last_error as shown to the admin */
#define DB_OUTBOX_KIND     16    /* "invite", "reminder", "allhands", ... */
#define DB_OUTBOX_KEY      128   /* a dedupe key */
#define DB_OUTBOX_ZONE     64    /* an IANA time zone name */

/* ------------------------------------------------------------------------
 * The outbox.
 */

/* A message to queue. Every string is borrowed for the call. */
struct db_outbox_new {
    const char *kind;        /* invite, reset, update, allhands, comment, reminder, digest, daily, test */
    int64_t     to_user;     /* the recipient's user id; 0 if not a member (an invite) */
    const char *to_addr;     /* envelope and To: address */
    const char *to_name;     /* display name on one line; NULL or "" for none */
    const char *subject;     /* one line of UTF-8, not yet header-encoded */
    const char *body_text;   /* text part, with {{base}}/{{unsubscribe}} placeholders */
    const char *body_html;   /* HTML part; NULL or "" for text only */
    const char *dedupe_key;  /* NULL: none; otherwise one message per key, ever */
    int         unsubscribe; /* 1: a notification (List-Unsubscribe, footer link) */
};

/*
 * Write m to the outbox, due at now. DB_OK with *id set (id may be NULL);
 * DB_CONSTRAINT when a message with the same dedupe key was queued before
 * (or to_user names nobody): nothing is written; or a negative db_rc. Runs
 * inside the caller's transaction when there is one.
 */
int db_outbox_enqueue(struct catalog *c, const struct db_outbox_new *m, int64_t now, int64_t *id);

/* A message claimed for delivery. */
struct db_outbox_msg {
    int64_t id;
    char    kind[DB_OUTBOX_KIND];
    int64_t to_user;                     /* 0: not a member */
    char    to_addr[DB_OUTBOX_ADDR];
    char    to_name[DB_OUTBOX_NAME];
    char    subject[DB_OUTBOX_SUBJECT];
    char   *body_text;                   /* malloc'd, never NULL after a claim */
    char   *body_html;                   /* malloc'd, "" for text only */
    char    dedupe_key[DB_OUTBOX_KEY];   /* "" for none */
    int     unsubscribe;                 /* a notification */
    int     attempts;                    /* attempts so far, this one included */
    int64_t created_at;                  /* queued at (Unix seconds) */
};
/* Free the bodies of m (m itself is the caller's). */
void db_outbox_msg_free(struct db_outbox_msg *m);

/*
 * Claim the next message due at now (oldest next_try first): in its own
 * committed transaction, before any byte goes to an SMTP server. DB_OK with
 * *out filled (free with db_outbox_msg_free), DB_NOTFOUND when nothing is
 * due, or a negative db_rc (nothing claimed; *out empty).
 */
int db_outbox_claim(struct catalog *c, int64_t now, struct db_outbox_msg *out);

/* The moves of a claimed message (see the top). DB_OK, DB_NOTFOUND (no
 * such message), DB_INVALID (not pending and claimed), or a negative db_rc. */
int db_outbox_sent(struct catalog *c, int64_t id, int64_t now);
int db_outbox_failed(struct catalog *c, int64_t id, const char *why);
int db_outbox_retry(struct catalog *c, int64_t id, int64_t next_try, const char *why);
int db_outbox_unclaim(struct catalog *c, int64_t id);

/* Release every claim (rows a stopped process was sending): *n receives
 * how many. DB_OK or a negative db_rc. */
int db_outbox_release_claims(struct catalog *c, int *n);

/* When the message with this dedupe key was queued. DB_OK with *created_at,
 * DB_NOTFOUND if never, or a negative db_rc. */
int db_outbox_queued_at(struct catalog *c, const char *dedupe_key, int64_t *created_at);

/* The same for n keys in one statement: for each keys[i], found[i] 1 with
 * created_at[i] when it was queued, else found[i] 0 (created_at[i] 0).
 * DB_OK or a negative db_rc. */
int db_outbox_queued_many(struct catalog *c, const char *const *keys, size_t n, int64_t *created_at,
                          int *found);

/* How many messages of kind went to to_user after since. DB_OK with *n,
 * or a negative db_rc. */
int db_outbox_count_since(struct catalog *c, const char *kind, int64_t to_user, int64_t since,
                          int64_t *n);

/* A row of the admin's outbox page. */
struct db_outbox_entry {
    int64_t id;
    char    kind[DB_OUTBOX_KIND];
    char    to_addr[DB_OUTBOX_ADDR];
    char    subject[DB_OUTBOX_SUBJECT];
    char    state[8];                    /* "pending" or "failed" */
    int     attempts;
    int64_t next_try;                    /* Unix seconds */
    char    last_error[DB_OUTBOX_ERROR];
    int64_t created_at;
    int64_t claimed_at;                  /* 0: not being sent */
};
/* Messages not sent (pending or failed), newest first, at most limit.
 * DB_OK with *out (caller frees; NULL when *n is 0), or a negative db_rc. */
int db_outbox_unsent(struct catalog *c, size_t limit, struct db_outbox_entry **out, size_t *n);

/* Messages per state. */
struct db_outbox_counts {
    int64_t pending;
    int64_t sent;
    int64_t failed;
};
int db_outbox_count(struct catalog *c, struct db_outbox_counts *out);

/* ------------------------------------------------------------------------
 * What messages are made of. These read users, updates and comments: the
 * joins mail needs, kept next to the outbox they feed.
 */

/* A person as mail sees them. */
struct db_outbox_person {
    int64_t id;
    char    email[DB_OUTBOX_ADDR];
    char    name[DB_OUTBOX_NAME];
    char    role[8];                     /* "member" or "admin" */
    char    time_zone[DB_OUTBOX_ZONE];
    char    notify_updates[12];          /* "immediate", "digest" or "off" */
    int     notify_reminders;            /* wants the weekly reminder */
    int     unsubscribed;                /* unsubscribed from all mail */
    int     deactivated;                 /* account closed */
    char    lang[8];                     /* users.lang: "en" or "fr", what mail to them is written in */
};

/* The person with id uid (any state). DB_OK, DB_NOTFOUND or a negative db_rc. */
int db_outbox_person(struct catalog *c, int64_t uid, struct db_outbox_person *out);
/* The active (not deactivated) account with this address, any case. */
int db_outbox_person_by_email(struct catalog *c, const char *email, struct db_outbox_person *out);
/* Everyone scheduled mail may go to (db_habit_members: active and not
 * unsubscribed from all mail), by id, in one statement. DB_OK with *out
 * (caller frees; NULL when *n is 0) or a negative db_rc. */
int db_outbox_members(struct catalog *c, struct db_outbox_person **out, size_t *n);
/* One-click unsubscribe: no more mail to uid. DB_OK, DB_NOTFOUND, or a
 * negative db_rc. */
int db_outbox_unsubscribe(struct catalog *c, int64_t uid);

/* An update that just became ready, for its notification. */
struct db_outbox_update {
    int64_t id;
    int     allhands;                    /* an all-hands update (else weekly) */
    char    title[DB_OUTBOX_NAME];       /* "" when untitled */
    char    iso_week[16];
    int64_t author_id;
    char    author[DB_OUTBOX_NAME];      /* the author's name */
};
int db_outbox_update_notice(struct catalog *c, int64_t update_id, struct db_outbox_update *out);

/*
 * Who hears of a new update right away: every active, subscribed person
 * but the author; for a weekly update only those who chose "immediate".
 * By id. DB_OK with *out (caller frees; NULL when *n is 0) or a negative db_rc.
 */
int db_outbox_update_recipients(struct catalog *c, int64_t author_id, int allhands,
                                struct db_outbox_person **out, size_t *n);

/* A new comment, for the notification to the update's author. */
struct db_outbox_comment {
    int64_t id;
    int64_t update_id;
    int64_t commenter_id;
    char    commenter[DB_OUTBOX_NAME];   /* the commenter's name */
    char    title[DB_OUTBOX_NAME];       /* the update's title, "" when untitled */
    struct db_outbox_person author;      /* the update's author (id, email, name, states) */
    char   *body;                        /* malloc'd */
};
/* DB_OK (free with db_outbox_comment_free), DB_NOTFOUND or a negative db_rc. */
int  db_outbox_comment_notice(struct catalog *c, int64_t comment_id, struct db_outbox_comment *out);
void db_outbox_comment_free(struct db_outbox_comment *cm);

/* One update listed in a digest. */
struct db_outbox_digest_item {
    int64_t update_id;
    int     allhands;
    char    title[DB_OUTBOX_NAME];       /* "" when untitled */
    char    author[DB_OUTBOX_NAME];
    int64_t author_id;
};
/* The ready updates of ISO week `week`: all-hands first, then by author.
 * DB_OK with *out (caller frees; NULL when *n is 0) or a negative db_rc. */
int db_outbox_digest_week(struct catalog *c, const char *week,
                          struct db_outbox_digest_item **out, size_t *n);
/* Weekly updates that became ready in [from, to), not by `reader` (0:
 * by anyone, for several readers at once). */
int db_outbox_digest_daily(struct catalog *c, int64_t reader, int64_t from, int64_t to,
                           struct db_outbox_digest_item **out, size_t *n);

#endif
