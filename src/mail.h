/*
 * mail.h - the mail outbox: messages queued in the same transaction as the
 * event that causes them, delivered over SMTP by a background thread.
 */
#ifndef HUBCAST_MAIL_H
#define HUBCAST_MAIL_H

#include <stddef.h>
#include <stdint.h>

struct catalog;
struct conf;
#include "router.h"

extern const struct route mail_routes[];
extern const size_t mail_nroutes;

/* Hooks called inside the caller's open transaction. 0 on success. */
int mail_queue_invite(struct catalog *c, const struct conf *conf, const char *email,
                      const char *name, const char *inviter, const char *url);
int mail_on_update_ready(struct catalog *c, const struct conf *conf, int64_t update_id);
int mail_on_comment(struct catalog *c, const struct conf *conf, int64_t comment_id);

/* The delivery thread, inside `hubcast serve`. */
int  mail_start(const struct conf *conf);
void mail_stop(void);

#endif
