/*
 * catalog_pg.h - the PostgreSQL backend of the catalog (libpq), behind the
 * same cat_* helpers as SQLite. Only catalog.c includes this: it hands a
 * call to these functions when its catalog was opened on a postgresql://
 * URL. db_*.c modules never see which backend runs.
 */
#ifndef HUBCAST_CATALOG_PG_H
#define HUBCAST_CATALOG_PG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern const struct migration catalog_migrations_pg[];

struct catpg;
struct cat_stmt;

/* A postgresql:// or postgres:// URL (not a SQLite path). */
int catpg_is_url(const char *path);

/*
 * Connect and migrate (as catalog_open does). The password comes from
 * PGPASSWORD or a password file (PGPASSFILE, ~/.pgpass), which libpq reads:
 * never from a command line that ps shows. fault() is catalog.c's
 * test-only fault hook.
 */
struct catpg *catpg_open(const char *url, int migrate, int (*fault)(void), char *err, size_t errsz);
void catpg_close(struct catpg *p);
int  catpg_latest_version(void);

int     catpg_exec(struct catpg *p, const char *sql, const char *fmt, va_list ap);
int64_t catpg_insert(struct catpg *p, const char *sql, const char *fmt, va_list ap);
int     catpg_get_int(struct catpg *p, int64_t *out, const char *sql, const char *fmt, va_list ap);
int     catpg_get_text(struct catpg *p, char **out, const char *sql, const char *fmt, va_list ap);

/* Statements of this backend are tagged pointers (low bit set): SQLite's
 * are aligned, so catalog.c tells them apart without a lookup. */
#define CATPG_IS_STMT(s) (((uintptr_t)(void *)(s)) & 1u)
/* lead: NULL, or a text bound as $1 before the values of fmt */
struct cat_stmt *catpg_query(struct catpg *p, const char *sql, const char *lead, const char *fmt,
                             va_list ap);
int         catpg_step(struct catpg *p, struct cat_stmt *s);
void        catpg_end(struct cat_stmt *s);
int64_t     catpg_col_int(struct cat_stmt *s, int i);
double      catpg_col_double(struct cat_stmt *s, int i);
const char *catpg_col_text(struct cat_stmt *s, int i);
int         catpg_col_null(struct cat_stmt *s, int i);

int  catpg_rc(struct catpg *p);
const char *catpg_errmsg(struct catpg *p);
int  catpg_in_transaction(struct catpg *p);
int  catpg_lost(struct catpg *p);
void catpg_busy_timeout(struct catpg *p, int ms);

#endif
