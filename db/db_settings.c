/*
 * db_settings.c - the settings table behind typed getters and setters.
 */
#include "config.h"

#include <stdlib.h>

#include "db_settings.h"

int db_setting_get(struct catalog *c, const char *key, char **out)
{
    *out = NULL;
    return cat_get_text(c, out, "SELECT value FROM settings WHERE key = ?", "s", key);
}

int db_setting_set(struct catalog *c, const char *key, const char *value)
{
    if (cat_exec(c, "INSERT INTO settings(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 "ss", key, value) < 0)
        return cat_rc(c);
    return DB_OK;
}

int db_setting_get_or_init(struct catalog *c, const char *key, const char *value, char **out)
{
    *out = NULL;
    if (cat_exec(c, "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                 "ss", key, value) < 0)
        return cat_rc(c);
    return db_setting_get(c, key, out);
}
