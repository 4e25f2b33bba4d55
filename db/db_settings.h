/*
 * db_settings.h - the company's settings (key/value): name, purpose,
 * reminder and digest times, SMTP, and the server's secrets.
 */
#ifndef HUBCAST_DB_SETTINGS_H
#define HUBCAST_DB_SETTINGS_H

#include "catalog.h"

/* DB_OK with *out malloc'd, DB_NOTFOUND (*out NULL) or a negative db_rc. */
int db_setting_get(struct catalog *c, const char *key, char **out);
/* Insert or replace. DB_OK or a negative db_rc. */
int db_setting_set(struct catalog *c, const char *key, const char *value);
/* Set only when absent (for secrets made on first use): DB_OK whether or
 * not it was set; then *out holds the value that won. */
int db_setting_get_or_init(struct catalog *c, const char *key, const char *value, char **out);

#endif
