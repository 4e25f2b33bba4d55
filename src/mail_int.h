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
#include <jansson.h>

struct catalog;
struct user;

#define MAIL_RETRY_FOR   (24 * 3600)    /* keep retrying at least this long */
#define MAIL_RETRY_MAX   3600           /* longest wait between two attempts */
#define RESET_TTL        3600           /* password reset links */

#define JS(o, k) json_string_value(json_object_get((o), (k)))
#define JI(o, k) ((int64_t)json_integer_value(json_object_get((o), (k))))

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

/* A user row (id, email, name, ...) or NULL. */
json_t *mail_user_row(struct catalog *c, int64_t id);
/* Queue a password reset / the admin's test mail. 0 on success. */
int mail_queue_reset(struct catalog *c, json_t *u, const char *token, time_t now);
int mail_queue_test(struct catalog *c, const struct user *u, time_t now);
/* The user id an unsubscribe token names, or 0. */
int64_t mail_unsub_verify(struct catalog *c, const char *token);
/* "Name <addr>" or "addr" into its two halves. */
void mail_parse_from(const char *from, char *name, size_t namesz, char *addr, size_t addrsz);

#endif
