/*
 * mail_int.h - what mail.c, mail_send.c and mail_api.c share: a growing
 * string for building messages, the queueing helpers the HTTP side calls,
 * and the retry limits.
 */
#ifndef HUBCAST_MAIL_INT_H
#define HUBCAST_MAIL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct catalog;
struct db_outbox_person;

#define MAIL_RETRY_FOR   (24 * 3600)    /* keep retrying at least this long */
#define MAIL_RETRY_MAX   3600           /* longest wait between two attempts */
#define RESET_TTL        3600           /* password reset links */

/* A growing string. Allocation failure aborts (hc_realloc), so none of
 * these can fail and a caller only ever frees b->p. */
struct sbuf {
    char  *p;      /* NUL-terminated once anything was added */
    size_t len;    /* bytes used, without the NUL */
    size_t cap;    /* bytes allocated */
};

void sb_addn(struct sbuf *b, const char *s, size_t n);
void sb_add(struct sbuf *b, const char *s);
void sb_addf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with &, <, >, " and ' escaped for HTML text and attribute values. */
void sb_html(struct sbuf *b, const char *s);

/* Queue a password reset for u. 1 queued, or a negative db_rc. */
int mail_queue_reset(struct catalog *c, const struct db_outbox_person *u, const char *token, time_t now);
/* Queue the admin's test mail. 1 queued (*id set), or a negative db_rc. */
int mail_queue_test(struct catalog *c, int64_t user_id, const char *email, const char *name,
                    time_t now, int64_t *id);
/* The user an unsubscribe token was made for: DB_OK with *uid set,
 * DB_NOTFOUND if the token is not one of ours, or a negative db_rc (the
 * key could not be read). */
int mail_unsub_verify(struct catalog *c, const char *token, int64_t *uid);
/* "Name <addr>" or "addr" into its two halves. */
void mail_parse_from(const char *from, char *name, size_t namesz, char *addr, size_t addrsz);

/* ------------------------------------------------------------------------
 * The words of messages, per language (mail_text.c).
 */

/* The languages mail is written in; users.lang names them "en", "fr". */
enum mail_lang { MAIL_EN = 0, MAIL_FR, MAIL_NLANGS };

/* Every text of a message. A text with a plural is followed by its
 * *_PLURAL id (see mail_plural). Placeholders are {name} in braces. */
enum mail_text {
    MT_HELLO, MT_FOOTER, MT_UNSUBSCRIBE, MT_LINK,
    MT_INVITE_SUBJECT, MT_YOUR_TEAM, MT_INVITE_HEADING, MT_INVITE_BODY, MT_INVITE_BUTTON,
    MT_INVITE_EXPIRY,
    MT_RESET_SUBJECT, MT_RESET_HEADING, MT_RESET_BODY, MT_RESET_BUTTON, MT_RESET_EXPIRY,
    MT_UPDATE_SUBJECT, MT_UPDATE_SUBJECT_TITLED, MT_ALLHANDS_SUBJECT, MT_ALLHANDS_SUBJECT_TITLED,
    MT_UPDATE_HEADING, MT_ALLHANDS_HEADING, MT_UPDATE_BODY, MT_UPDATE_BODY_TITLED,
    MT_ALLHANDS_BODY, MT_ALLHANDS_BODY_TITLED, MT_WATCH_BUTTON,
    MT_COMMENT_SUBJECT, MT_COMMENT_SUBJECT_TITLED, MT_COMMENT_HEADING, MT_COMMENT_WROTE,
    MT_REPLY_BUTTON,
    MT_REMINDER_SUBJECT, MT_REMINDER_HEADING, MT_REMINDER_BODY,
    MT_NUDGE_SUBJECT, MT_NUDGE_HEADING, MT_NUDGE_BODY,
    MT_POSTED_SO_FAR, MT_POSTED_SO_FAR_PLURAL, MT_RECORD_BUTTON,
    MT_DIGEST_SUBJECT, MT_DIGEST_SUBJECT_PLURAL, MT_DIGEST_HEADING,
    MT_DIGEST_PARTICIPATION, MT_DIGEST_PARTICIPATION_PLURAL, MT_DIGEST_NOBODY, MT_DIGEST_BUTTON,
    MT_DAILY_SUBJECT, MT_DAILY_SUBJECT_PLURAL, MT_DAILY_HEADING, MT_ITEM_ALLHANDS, MT_ITEM_UNTITLED,
    MT_TEST_SUBJECT, MT_TEST_HEADING, MT_TEST_BODY, MT_OPEN_BUTTON,
    MT_ITEM_ALLHANDS_ALONE,
    MT_MENTION_SUBJECT_UPDATE, MT_MENTION_SUBJECT_ALLHANDS, MT_MENTION_SUBJECT_COMMENT,
    MT_MENTION_HEADING, MT_MENTION_IN_UPDATE, MT_MENTION_IN_ALLHANDS, MT_MENTION_IN_COMMENT,
    MT_SEE_BUTTON,
    MT_CHART_HEADING, MT_CHART_WEEK,
    MT_COUNT
};

/* The language of a users.lang value: French for "fr", else English. */
enum mail_lang mail_lang_of(const char *code);
/* Text id in lang (English where a translation is missing); never NULL. */
const char *mail_tr(enum mail_lang lang, enum mail_text id);
/* one, or the *_PLURAL id after it, as lang says for a count of n. */
enum mail_text mail_plural(enum mail_lang lang, enum mail_text one, long long n);
/* An ISO week ("2026-W08") as lang writes it: "2026-W08", "semaine 8". */
void mail_week_label(enum mail_lang lang, const char *iso_week, char *out, size_t outsz);
/* Text id in lang with its {placeholders} filled, into out (truncated to
 * fit): the variadic arguments are key, value pairs ending with a NULL
 * key; a placeholder without a value stays as written. */
void mail_fill(char *out, size_t outsz, enum mail_lang lang, enum mail_text id, ...)
    __attribute__((sentinel));

#endif
