/*
 * mail.h - the mail outbox: messages queued in the same transaction as the
 * event that causes them, delivered over SMTP by a background thread; the
 * admin and unsubscribe routes; the pieces of message building that are
 * pure (header encoding) so unit tests can reach them.
 *
 * Not here: deciding *when* a reminder or a digest is due (scheduler.c).
 */
#ifndef HUBCAST_MAIL_H
#define HUBCAST_MAIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct catalog;
struct conf;
#include "router.h"

extern const struct route mail_routes[];
extern const size_t mail_nroutes;

/* Hooks called inside the caller's open transaction. 0 on success (also
 * when there is nobody to tell), or a negative enum db_rc (catalog.h) on a
 * catalog error: the caller rolls back, and answers 507 for DB_FULL. */
int mail_queue_invite(struct catalog *c, const struct conf *conf, const char *email,
                      const char *name, const char *inviter, const char *url);
/* The same in language lang ("en", "fr"; anything else is English), for
 * when the invite says which language the invited person reads. */
int mail_queue_invite_in(struct catalog *c, const struct conf *conf, const char *lang, const char *email,
                         const char *name, const char *inviter, const char *url);
int mail_on_update_ready(struct catalog *c, const struct conf *conf, int64_t update_id);
int mail_on_comment(struct catalog *c, const struct conf *conf, int64_t comment_id);
/* The mention mails of update_id (in it and its comments) not sent yet,
 * once it is ready: one per person and mention source (outbox key
 * "mention:<user>:<source>"). Nothing while the update is not ready. */
int mail_on_mentions(struct catalog *c, int64_t update_id);

/*
 * Scheduled mail, written by the scheduler (or `hubcast remind`) when due.
 * `now` is the instant the message is queued at.
 *
 * A batch (one round of the scheduler) reads what its messages share once
 * for all of them: the recipients (one statement for everybody), a week's
 * participation on each clock, a digest's updates and their answers. Its
 * messages are held, then written together by mail_batch_write.
 */
struct mail_batch;
struct mail_batch *mail_batch_new(void);
void   mail_batch_free(struct mail_batch *b);
/* Write the messages b holds to the outbox in one transaction, then drop
 * them: queued[i] (one per held message, in order) is 1 when message i was
 * queued, 0 when its dedupe key was queued before. DB_OK, or a negative
 * enum db_rc with nothing written (every queued[i] 0). */
int    mail_batch_write(struct catalog *c, struct mail_batch *b, int *queued);

/* Each returns 1 when a message was made (held by b, or with b NULL
 * queued at once), 0 if there was nothing to send (or, with b NULL, it was
 * already queued: the outbox's dedupe key), or a negative enum db_rc on a
 * catalog error (never 0: a failed read is not "nothing to send"). */
int mail_queue_reminder(struct catalog *c, struct mail_batch *b, int64_t user_id, const char *week, int nth,
                        time_t now);
int mail_queue_weekly_digest(struct catalog *c, struct mail_batch *b, int64_t user_id, const char *week,
                             time_t now);
int mail_queue_daily_digest(struct catalog *c, struct mail_batch *b, int64_t user_id, const char *date,
                            time_t from, time_t to, time_t now);

/*
 * A header value as RFC 5322/2047 wants it: printable ASCII is kept (a
 * display name with specials is quoted), anything else becomes UTF-8 "B"
 * encoded words. CR, LF and other control characters become spaces first.
 * Returns a malloc'd string the caller frees.
 */
char *mail_header_encode(const char *value, int is_phrase);

/* The signed token of the unsubscribe link for user_id (out >= 128 bytes).
 * DB_OK, or a negative enum db_rc. */
int mail_unsubscribe_token(struct catalog *c, int64_t user_id, char *out, size_t outsz);

/* The delivery thread, inside `hubcast serve`. */
int  mail_start(const struct conf *conf);
void mail_stop(void);

#endif
