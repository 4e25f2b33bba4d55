/*
 * catalog.h - the SQLite catalog: opening (WAL, foreign keys, durable
 * commits), numbered migrations, and query helpers that only ever bind
 * parameters to fixed SQL text. Rows come back as jansson objects keyed by
 * column name, which is what the HTTP API returns anyway.
 */
#ifndef HUBCAST_CATALOG_H
#define HUBCAST_CATALOG_H

#include <stdint.h>
#include <jansson.h>

struct migration {
    int         version;
    const char *name;
    const char *sql;
};
extern const struct migration catalog_migrations[];

struct catalog;

/* Path of the database file in a data folder: DATA/hubcast.db */
int catalog_path(const char *data_dir, char *out, size_t outsz);

/*
 * Open the catalog. With migrate != 0, apply pending migrations; otherwise
 * refuse a database that is behind. A database newer than this binary is
 * always refused. err receives a sentence for the operator.
 */
struct catalog *catalog_open(const char *path, int migrate, char *err, size_t errsz);
void catalog_close(struct catalog *c);
int catalog_schema_version(struct catalog *c);
int catalog_latest_version(void);

/*
 * Parameters are described by a format string, one letter each:
 *   i  int        I  int64_t     d  double     s  const char * (NULL binds NULL)
 *   b  const void *, int len (blob)   n  NULL
 */
int     cat_exec(struct catalog *c, const char *sql, const char *fmt, ...);    /* changes or -1 */
int64_t cat_insert(struct catalog *c, const char *sql, const char *fmt, ...);  /* rowid or -1 */
json_t *cat_rows(struct catalog *c, const char *sql, const char *fmt, ...);    /* array or NULL */
json_t *cat_row(struct catalog *c, const char *sql, const char *fmt, ...);     /* object, NULL if none */
int64_t cat_int(struct catalog *c, int64_t dflt, const char *sql, const char *fmt, ...);
/* First column of the first row as a newly allocated string, or NULL. */
char   *cat_text(struct catalog *c, const char *sql, const char *fmt, ...);

int  cat_begin(struct catalog *c);      /* BEGIN IMMEDIATE */
int  cat_commit(struct catalog *c);
void cat_rollback(struct catalog *c);
const char *cat_errmsg(struct catalog *c);
/* Was the last failure a constraint violation (e.g. UNIQUE)? */
int  cat_was_constraint(struct catalog *c);

/* Settings table helpers. */
char *cat_setting(struct catalog *c, const char *key);   /* malloc'd or NULL */
int   cat_set_setting(struct catalog *c, const char *key, const char *value);

#endif
