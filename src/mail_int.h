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

#endif
