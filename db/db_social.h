/*
 * db_social.h - the data layer for views (watch progress), comments,
 * reactions and @mentions (recognition). Typed functions returning enum
 * db_rc (catalog.h); no caller outside db/ sees SQL. Who may see the update they belong to is decided
 * before, by db_update_get (the visibility rule in db_updates.h).
 */
#ifndef HUBCAST_DB_SOCIAL_H
#define HUBCAST_DB_SOCIAL_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

/* ---- views ---- */

/* One person's watch progress on one update. */
struct db_view {
    int64_t update_id;
    int64_t user_id;
    char    user_name[256];
    int64_t first_seen;
    int64_t last_seen;
    double  position;           /* furthest second reached */
    int     completed;          /* watched to the end, once */
};

/* Record that user watched up to position (never moving back, completed
 * stays set), then read the result into *out; one transaction. DB_OK or a
 * negative db_rc (nothing recorded). DB_CONSTRAINT when the update does
 * not exist. */
int db_view_record(struct catalog *c, int64_t update_id, int64_t user_id, int64_t now,
                   double position, int completed, struct db_view *out);
/* DB_OK with *out, DB_NOTFOUND when user has not watched it, or negative. */
int db_view_get(struct catalog *c, int64_t update_id, int64_t user_id, struct db_view *out);
/* The same for n updates in one statement (a page of a list): out[i] and
 * found[i] = 1 when user watched ids[i], else found[i] = 0. DB_OK or a
 * negative db_rc. */
int db_view_gets(struct catalog *c, const int64_t *ids, size_t n, int64_t user_id, struct db_view *out,
                 int *found);
/* Everyone but the author who watched, latest first. DB_OK with *out (free()) and *n, or
 * a negative db_rc. */
int db_view_list(struct catalog *c, int64_t update_id, struct db_view **out, size_t *n);

/* ---- comments ---- */

struct db_comment {
    int64_t id;
    int64_t update_id;
    int64_t user_id;
    char    user_name[256];
    char   *body;               /* malloc'd; free with db_comment_free */
    double  at_seconds;         /* time in the video it is about */
    int     has_at;             /* at_seconds is set */
    int64_t created_at;
};
void db_comment_free(struct db_comment *m);
void db_comment_list_free(struct db_comment **list, size_t n);

/*
 * Add a comment (at < 0: about no particular time), then run
 * on_added(c, comment_id, arg) inside the same transaction (the mail to
 * the author; < 0 aborts all). DB_OK with *id, or a negative db_rc
 * (nothing saved; DB_CONSTRAINT when the update does not exist).
 */
int db_comment_add(struct catalog *c, int64_t update_id, int64_t user_id, double at, const char *body,
                   int64_t now, int (*on_added)(struct catalog *c, int64_t comment_id, void *arg),
                   void *arg, int64_t *id);
/* DB_OK with *out (free with db_comment_free), DB_NOTFOUND, or negative. */
int db_comment_get(struct catalog *c, int64_t id, struct db_comment *out);
/* The comments of an update: timed ones by time, then the rest by age.
 * DB_OK with *out and *n (free with db_comment_list_free), or negative. */
int db_comment_list(struct catalog *c, int64_t update_id, struct db_comment **out, size_t *n);
/* The author of a comment: DB_OK with *user_id, DB_NOTFOUND, or negative. */
int db_comment_owner(struct catalog *c, int64_t id, int64_t *user_id);
/* DB_OK, DB_NOTFOUND, or a negative db_rc. */
int db_comment_delete(struct catalog *c, int64_t id);

/* ---- reactions ---- */

struct db_reaction {
    int64_t id;
    int64_t update_id;
    int64_t user_id;
    char    user_name[256];
    char    emoji[40];
    double  at_seconds;
    int     has_at;
    int64_t created_at;
};

/* Add user's emoji to an update (at < 0: no particular time); the same
 * emoji twice is one reaction. One transaction: DB_OK with *out (the
 * reaction, new or already there) and *created (1 if new), or a negative
 * db_rc (DB_CONSTRAINT when the update does not exist). */
int db_reaction_add(struct catalog *c, int64_t update_id, int64_t user_id, const char *emoji, double at,
                    int64_t now, struct db_reaction *out, int *created);
/* In the order they were made. DB_OK with *out (free()) and *n, or negative. */
int db_reaction_list(struct catalog *c, int64_t update_id, struct db_reaction **out, size_t *n);
/* DB_OK with *user_id, DB_NOTFOUND, or negative. */
int db_reaction_owner(struct catalog *c, int64_t id, int64_t *user_id);
/* DB_OK, DB_NOTFOUND, or negative. */
int db_reaction_delete(struct catalog *c, int64_t id);

/* ---- mentions (recognition) ---- */

/* Someone who can be mentioned: an active person. */
struct db_mention_person {
    int64_t id;
    char    name[256];
};
/* Every active person, by id. DB_OK with *out (free(); NULL when *n is 0),
 * or a negative db_rc. */
int db_mention_people(struct catalog *c, struct db_mention_person **out, size_t *n);

/* A mention to record. Strings are borrowed for the call. */
struct db_mention_new {
    int64_t     user_id;        /* who is mentioned */
    int64_t     by_user;        /* who wrote it */
    int64_t     update_id;
    int64_t     comment_id;     /* 0: in the update's description or answers */
    const char *source;         /* "update:<id>" or "comment:<id>" */
    const char *excerpt;
    int64_t     now;
};
/* Record m once per (person, source); inside the caller's transaction
 * when there is one. DB_OK with *created 1 (new) or 0 (already there), or
 * a negative db_rc (DB_CONSTRAINT: no such person, update or comment). */
int db_mention_add(struct catalog *c, const struct db_mention_new *m, int *created);

/* A recorded mention, with what its mail needs. */
struct db_mention {
    int64_t id;
    int64_t user_id;            /* who is mentioned */
    int64_t by_user;
    char    by_name[256];
    int64_t update_id;
    char    title[256];         /* of the update */
    char    kind[16];           /* of the update */
    char    status[16];         /* of the update */
    int64_t comment_id;         /* 0: in the update itself */
    char    source[48];
    char    excerpt[512];
};
/* Every mention in update_id and its comments, by id. DB_OK with *out
 * (free(); NULL when *n is 0), or a negative db_rc. */
int db_mention_list_update(struct catalog *c, int64_t update_id, struct db_mention **out, size_t *n);

#endif
