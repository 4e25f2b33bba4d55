/*
 * catalog.h - the SQLite catalog: opening (WAL, foreign keys, durable
 * commits), numbered migrations, the result codes of the whole data layer,
 * and the query helpers that the db_*.c modules build on. Only db/ calls the
 * cat_* helpers; src/ and transcoder/ call the typed db_* functions.
 */
#ifndef HUBCAST_CATALOG_H
#define HUBCAST_CATALOG_H

#include <stddef.h>
#include <stdint.h>

struct migration {
    int         version;
    const char *name;
    const char *sql;
};
extern const struct migration catalog_migrations[];

struct catalog;

/*
 * The outcome of every data-layer function. "Not found" and "error" are
 * never the same value: a failed query does not look like an empty answer.
 * Callers in src/ map DB_FULL to 507, the other errors to 503 (see
 * api_db_fail), and decide themselves what DB_NOTFOUND, DB_CONSTRAINT and
 * DB_INVALID mean for them.
 */
enum db_rc {
    DB_OK         = 0,
    DB_NOTFOUND   = 1,   /* no such row (not an error) */
    DB_ERROR      = -1,  /* any other catalog failure (I/O, corruption, ...) */
    DB_FULL       = -2,  /* the disk holding the catalog is full */
    DB_BUSY       = -3,  /* locked by another connection past busy_timeout */
    DB_CONSTRAINT = -4,  /* a UNIQUE, CHECK or foreign key refused the write */
    DB_INVALID    = -5,  /* a state transition that is not allowed */
};
/* A short name for logs: "ok", "not found", "disk full", ... */
const char *db_rc_name(int rc);

/*
 * The SQL of a text column's order for people to read: case folded for the
 * ASCII letters, otherwise by code point, the same on both backends (what
 * SQLite's NOCASE orders by; COLLATE NOCASE on PostgreSQL is an ICU
 * collation that orders punctuation before digits and accents with their
 * letters). ucs_basic is PostgreSQL's code-point collation, under which
 * lower() folds only ASCII; catalog_open gives SQLite a collation of that
 * name. Use: "ORDER BY " CAT_ORDER_NOCASE("u.name") ", u.id".
 */
#define CAT_ORDER_NOCASE(col) "lower(" col " COLLATE ucs_basic)"

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

int  cat_begin(struct catalog *c);      /* BEGIN IMMEDIATE */
int  cat_commit(struct catalog *c);
void cat_rollback(struct catalog *c);
const char *cat_errmsg(struct catalog *c);
/* The enum db_rc of the last failure on this connection (DB_ERROR if the
 * last call did not fail). */
int  cat_rc(struct catalog *c);

/*
 * Typed reads for db/ modules. cat_get_int/cat_get_text return DB_OK with
 * *out set, DB_NOTFOUND when there is no row (or the value is NULL), or a
 * negative enum db_rc. *out from cat_get_text is malloc'd.
 */
int cat_get_int(struct catalog *c, int64_t *out, const char *sql, const char *fmt, ...);
int cat_get_text(struct catalog *c, char **out, const char *sql, const char *fmt, ...);

/*
 * Row by row, into caller structs: st = cat_query(...) prepares and binds
 * (NULL on failure: cat_rc says why), then cat_step() returns 1 with a row,
 * 0 when done, or a negative enum db_rc; it resets the statement when it
 * returns 0 or an error. Call cat_end() to stop early. Columns are read
 * with cat_col_* (index from 0); text is valid until the next step.
 */
struct cat_stmt;
struct cat_stmt *cat_query(struct catalog *c, const char *sql, const char *fmt, ...);
int         cat_step(struct catalog *c, struct cat_stmt *st);
void        cat_end(struct cat_stmt *st);
int64_t     cat_col_int(struct cat_stmt *st, int i);
double      cat_col_double(struct cat_stmt *st, int i);
const char *cat_col_text(struct cat_stmt *st, int i);   /* "" for NULL */
int         cat_col_null(struct cat_stmt *st, int i);
/* Copy a text column into a fixed buffer (truncating). */
void        cat_col_copy(struct cat_stmt *st, int i, char *buf, size_t bufsz);

/*
 * Every row of st (from cat_query; NULL is taken as its failure) into a
 * new array of elem-sized items, each zeroed then filled by fill(). DB_OK
 * with *out (caller frees; NULL when empty) and *n, or a negative db_rc
 * with nothing handed out.
 */
int cat_read_list(struct catalog *c, struct cat_stmt *st, size_t elem,
                  void (*fill)(struct cat_stmt *, void *), void **out, size_t *n);

/*
 * Test-only fault hook: with the test clock on, while the file named by
 * HUBCAST_CATALOG_FAULT exists, every statement fails as an I/O error does.
 */
void catalog_fault_init(int test_mode);

/*
 * Transactions for callers outside db/ that must make several db_* calls
 * (or a db_* call and a mail_* hook) one unit. db_begin takes the write
 * lock (BEGIN IMMEDIATE); db_commit rolls back when it fails. Each returns
 * DB_OK or a negative enum db_rc.
 */
int  db_begin(struct catalog *c);
int  db_commit(struct catalog *c);
void db_rollback(struct catalog *c);
/*
 * db_begin, then a statement (as cat_exec takes it) that must change a
 * row, typically "UPDATE ... WHERE id = ?" for a function that writes one
 * thing and then more. DB_OK with the transaction still open when it
 * changed at least one row; otherwise the transaction is over (rolled
 * back) and it returns DB_NOTFOUND when no row matched, or the negative
 * enum db_rc of the failure.
 */
int  db_begin_update(struct catalog *c, const char *sql, const char *fmt, ...);
/*
 * A transaction that locks only the rows it selects FOR UPDATE (job
 * claims: "... FOR UPDATE SKIP LOCKED" on PostgreSQL): there, it does not
 * take the lock that db_begin's transactions share, so claims on several
 * servers run side by side. On SQLite it is db_begin (the one write lock).
 */
int  db_begin_rows(struct catalog *c);
/* Whether the catalog is PostgreSQL, for the few statements a module must
 * write once per backend (e.g. FOR UPDATE SKIP LOCKED, which SQLite lacks). */
int  cat_is_pg(struct catalog *c);

/*
 * A set of values bound as one parameter, for one statement over a set
 * (a page of updates, every person's dedupe key) instead of one statement
 * per value. cat_query_ids / cat_query_texts are cat_query with the
 * values ids[n] / v[n] (texts may hold any byte but NUL) bound first, as
 * one JSON array, then the values of fmt; sql[0] is for SQLite, sql[1]
 * for PostgreSQL. In SQL, CAT_LIST_*(param) is a table of the array with
 * columns i (the index in the array, from 0) and v (the value: text, or
 * int8 with CAT_LIST_IDS), to join or to use in "IN (SELECT v FROM ...)":
 *   static const char *const sql[2] = { "... JOIN " CAT_LIST_SQLITE("?1") " j ON ... ?2",
 *                                       "... JOIN " CAT_LIST_PG("?1") " j ON ... ?2" };
 *   st = cat_query_texts(c, sql, keys, n, "I", user_id);
 */
struct cat_stmt *cat_query_ids(struct catalog *c, const char *const sql[2], const int64_t *ids, size_t n,
                               const char *fmt, ...);
struct cat_stmt *cat_query_texts(struct catalog *c, const char *const sql[2], const char *const *v,
                                 size_t n, const char *fmt, ...);
#define CAT_LIST_SQLITE(p)     "(SELECT key AS i, value AS v FROM json_each(" p "))"
#define CAT_LIST_PG(p)         "(SELECT n - 1 AS i, v FROM json_array_elements_text(" p "::json) " \
                               "WITH ORDINALITY AS x(v, n))"
#define CAT_LIST_IDS_SQLITE(p) CAT_LIST_SQLITE(p)
#define CAT_LIST_IDS_PG(p)     "(SELECT n - 1 AS i, v::int8 AS v FROM json_array_elements_text(" p "::json) " \
                               "WITH ORDINALITY AS x(v, n))"

/* After a failed statement inside a transaction: roll back and return
 * the failure's enum db_rc (always negative). */
int  db_fail(struct catalog *c);

/* 1 when the catalog is a PostgreSQL server whose connection was lost
 * (and could not be made again), else 0. */
int  catalog_lost(struct catalog *c);

/* How long a statement waits for another connection's lock before it
 * fails with DB_BUSY (10 s after catalog_open). */
void catalog_busy_timeout(struct catalog *c, int ms);


#endif
