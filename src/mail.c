/*
 * mail.c - the outbox and SMTP delivery (libcurl). First form: invites are
 * queued as plain text; delivery is not built yet.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "conf.h"
#include "http.h"
#include "mail.h"
#include "util.h"

const struct route mail_routes[] = {
    { "GET", "/api/admin/outbox", NULL, ROLE_ADMIN, 0, NULL },
};
const size_t mail_nroutes = 0;

int mail_queue_invite(struct catalog *c, const struct conf *conf, const char *email,
                      const char *name, const char *inviter, const char *url)
{
    char subject[512], text[2048];
    int64_t now = (int64_t)hc_now();

    (void)conf;
    snprintf(subject, sizeof(subject), "%s invited you to Hubcast", inviter);
    snprintf(text, sizeof(text),
             "Hello%s%s,\n\n%s invited you to share a short video update with your team each week.\n\n"
             "Choose your password here (the link works for 7 days):\n%s\n",
             name ? " " : "", name ? name : "", inviter, url);
    return cat_insert(c, "INSERT INTO outbox(kind, to_addr, subject, body_text, next_try, created_at) "
                         "VALUES ('invite', ?, ?, ?, ?, ?)", "sssII", email, subject, text, now, now) < 0 ? -1 : 0;
}

int mail_on_update_ready(struct catalog *c, const struct conf *conf, int64_t update_id)
{
    (void)c;
    (void)conf;
    (void)update_id;
    return 0;
}

int mail_on_comment(struct catalog *c, const struct conf *conf, int64_t comment_id)
{
    (void)c;
    (void)conf;
    (void)comment_id;
    return 0;
}

int mail_start(const struct conf *conf)
{
    (void)conf;
    return 0;
}

void mail_stop(void)
{
}
