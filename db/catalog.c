/*
 * catalog.c - SQLite access for Hubcast's data layer. Every statement is
 * fixed SQL text with bound parameters, prepared once per connection and
 * cached by the address of its text. One connection per thread (see
 * http.c). Only the db_*.c modules use these helpers.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "catalog.h"
#include "catalog_pg.h"
#include "util.h"

/* First size of the statement cache; it doubles when half full, so every
 * distinct statement of the binary stays prepared. */
#define STMT_CACHE_MIN 256

struct stmt_slot {
    const char   *sql;          /* the statement's text, by address */
    sqlite3_stmt *st;
};

struct catalog {
    sqlite3 *db;
    int      last_rc;           /* SQLite rc of the last failure */
    struct stmt_slot *cache;    /* open addressing by text address */
    size_t   ncache;            /* slots (a power of two) */
    size_t   nused;             /* slots holding a statement */
    struct catpg *pg;           /* a postgresql:// catalog: everything goes there */
};

/* Test-only: a file whose existence makes every statement fail. */
static const char *fault_file;

void catalog_fault_init(int test_mode)
{
    const char *f = getenv("HUBCAST_CATALOG_FAULT");
    fault_file = test_mode && f && *f ? f : NULL;
}

static bool fault_active(void)
{
    return fault_file && access(fault_file, F_OK) == 0;
}

static int fault_hook(void)
{
    return fault_active();
}

const char *db_rc_name(int rc)
{
    switch (rc) {
    case DB_OK:         return "ok";
    case DB_NOTFOUND:   return "not found";
    case DB_FULL:       return "disk full";
    case DB_BUSY:       return "catalog busy";
    case DB_CONSTRAINT: return "constraint violated";
    case DB_INVALID:    return "transition not allowed";
    default:            return "catalog error";
    }
}

int cat_rc(struct catalog *c)
{
    if (c->pg)
        return catpg_rc(c->pg);
    switch (c->last_rc & 0xff) {
    case SQLITE_FULL:       return DB_FULL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:     return DB_BUSY;
    case SQLITE_CONSTRAINT: return DB_CONSTRAINT;
    case SQLITE_IOERR:
        /* SQLite reports a full disk on write as SQLITE_FULL, but an
         * fsync or a WAL append can fail as an I/O error with ENOSPC. */
        return sqlite3_system_errno(c->db) == 28 /* ENOSPC */ ? DB_FULL : DB_ERROR;
    default:                return DB_ERROR;
    }
}

int catalog_path(const char *data_dir, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "%s/hubcast.db", data_dir);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int catalog_latest_version(void)
{
    int v = 0;
    for (const struct migration *m = catalog_migrations; m->sql; m++)
        if (m->version > v)
            v = m->version;
    return v;
}

static int simple_exec(struct catalog *c, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        hc_log("catalog: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int catalog_schema_version(struct catalog *c)
{
    int64_t v = 0;

    if (cat_get_int(c, &v, "SELECT COALESCE(MAX(version), 0) FROM schema_version", "") < 0)
        return -1;
    return (int)v;
}

static int migrate(struct catalog *c, int apply, char *err, size_t errsz)
{
    int have, latest = catalog_latest_version();

    if (simple_exec(c, "CREATE TABLE IF NOT EXISTS schema_version ("
                       " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                       " applied_at INTEGER NOT NULL)") < 0) {
        snprintf(err, errsz, "cannot create the schema_version table: %s", sqlite3_errmsg(c->db));
        return -1;
    }
    have = catalog_schema_version(c);
    if (have > latest) {
        snprintf(err, errsz, "the database is at schema version %d, newer than this "
                 "hubcast binary understands (%d); upgrade hubcast", have, latest);
        return -1;
    }
    if (have == latest)
        return 0;
    if (!apply) {
        snprintf(err, errsz, "the database is at schema version %d and needs %d; "
                 "run `hubcast migrate`", have, latest);
        return -1;
    }
    for (const struct migration *m = catalog_migrations; m->sql; m++) {
        if (m->version <= have)
            continue;
        if (simple_exec(c, "BEGIN IMMEDIATE") < 0)
            goto fail;
        if (simple_exec(c, m->sql) < 0 ||
            cat_exec(c, "INSERT INTO schema_version(version, name, applied_at) VALUES (?, ?, ?)",
                     "isI", m->version, m->name, (int64_t)hc_now()) < 0) {
            simple_exec(c, "ROLLBACK");
            goto fail;
        }
        if (simple_exec(c, "COMMIT") < 0)
            goto fail;
        hc_log("catalog: applied migration %s", m->name);
        continue;
fail:
        snprintf(err, errsz, "migration %s failed: %s", m->name, sqlite3_errmsg(c->db));
        return -1;
    }
    return 0;
}

/* ucs_basic (see CAT_ORDER_NOCASE): UTF-8 bytes in memcmp order, which is
 * code point order, as PostgreSQL's collation of that name. */
static int ucs_basic_cmp(void *arg, int na, const void *a, int nb, const void *b)
{
    int r = memcmp(a, b, (size_t)(na < nb ? na : nb));

    (void)arg;
    return r ? r : na - nb;
}

struct catalog *catalog_open(const char *path, int apply, char *err, size_t errsz)
{
    struct catalog *c = hc_calloc(1, sizeof(*c));
    int rc;

    if (catpg_is_url(path)) {
        if (!(c->pg = catpg_open(path, apply, fault_hook, err, errsz))) {
            free(c);
            return NULL;
        }
        return c;
    }

    rc = sqlite3_open_v2(path, &c->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errsz, "cannot open the catalog %s: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        catalog_close(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 10000);
    sqlite3_extended_result_codes(c->db, 1);
    if (sqlite3_create_collation_v2(c->db, "ucs_basic", SQLITE_UTF8, NULL, ucs_basic_cmp, NULL) != SQLITE_OK) {
        snprintf(err, errsz, "cannot configure the catalog %s: %s", path, sqlite3_errmsg(c->db));
        catalog_close(c);
        return NULL;
    }
    /* WAL for concurrent readers; synchronous=FULL so that a commit the
     * user was told about survives a power cut. */
    if (simple_exec(c, "PRAGMA journal_mode=WAL") < 0 ||
        simple_exec(c, "PRAGMA synchronous=FULL") < 0 ||
        simple_exec(c, "PRAGMA foreign_keys=ON") < 0 ||
        simple_exec(c, "PRAGMA trusted_schema=OFF") < 0) {
        snprintf(err, errsz, "cannot configure the catalog %s: %s", path, sqlite3_errmsg(c->db));
        catalog_close(c);
        return NULL;
    }
    if (migrate(c, apply, err, errsz) < 0) {
        catalog_close(c);
        return NULL;
    }
    return c;
}

void catalog_close(struct catalog *c)
{
    if (!c)
        return;
    catpg_close(c->pg);
    for (size_t i = 0; i < c->ncache; i++)
        if (c->cache[i].st)
            sqlite3_finalize(c->cache[i].st);
    free(c->cache);
    if (c->db)
        sqlite3_close(c->db);
    free(c);
}

static struct stmt_slot *cache_slot(struct stmt_slot *cache, size_t n, const char *sql)
{
    size_t k = ((uintptr_t)sql >> 3) & (n - 1);
    while (cache[k].sql && cache[k].sql != sql)
        k = (k + 1) & (n - 1);
    return &cache[k];
}

/* Double the cache; every prepared statement moves to its new slot. */
static void cache_grow(struct catalog *c)
{
    size_t n = c->ncache ? c->ncache * 2 : STMT_CACHE_MIN;
    struct stmt_slot *cache = hc_calloc(n, sizeof(*cache));

    for (size_t i = 0; i < c->ncache; i++)
        if (c->cache[i].sql)
            *cache_slot(cache, n, c->cache[i].sql) = c->cache[i];
    free(c->cache);
    c->cache = cache;
    c->ncache = n;
}

static sqlite3_stmt *prepare(struct catalog *c, const char *sql)
{
    struct stmt_slot *slot;
    sqlite3_stmt *st = NULL;

    if (fault_active()) {
        c->last_rc = SQLITE_IOERR;
        hc_log("catalog: injected fault (%s exists)", fault_file);
        return NULL;
    }
    if (2 * (c->nused + 1) > c->ncache)
        cache_grow(c);
    slot = cache_slot(c->cache, c->ncache, sql);
    if (slot->sql) {
        sqlite3_reset(slot->st);
        sqlite3_clear_bindings(slot->st);
        return slot->st;
    }
    c->last_rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (c->last_rc != SQLITE_OK) {
        hc_log("catalog: prepare failed: %s: %s", sqlite3_errmsg(c->db), sql);
        return NULL;
    }
    slot->sql = sql;
    slot->st = st;
    c->nused++;
    return st;
}

/* lead, when not NULL, is a text bound as ?1 before the values of fmt. */
static sqlite3_stmt *bindv(struct catalog *c, const char *sql, const char *lead, const char *fmt,
                           va_list ap)
{
    sqlite3_stmt *st = prepare(c, sql);
    int idx = 1, rc = SQLITE_OK;

    if (!st)
        return NULL;
    if (lead)
        rc = sqlite3_bind_text(st, idx++, lead, -1, SQLITE_TRANSIENT);
    for (const char *f = fmt; *f && rc == SQLITE_OK; f++, idx++) {
        switch (*f) {
        case 'i': rc = sqlite3_bind_int(st, idx, va_arg(ap, int)); break;
        case 'I': rc = sqlite3_bind_int64(st, idx, va_arg(ap, int64_t)); break;
        case 'd': rc = sqlite3_bind_double(st, idx, va_arg(ap, double)); break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);
            break;
        }
        case 'b': {
            const void *p = va_arg(ap, const void *);
            int n = va_arg(ap, int);
            rc = sqlite3_bind_blob(st, idx, p, n, SQLITE_TRANSIENT);
            break;
        }
        case 'n': rc = sqlite3_bind_null(st, idx); break;
        default:
            hc_log("catalog: bad bind format '%c'", *f);
            return NULL;
        }
    }
    if (rc != SQLITE_OK) {
        c->last_rc = rc;
        hc_log("catalog: bind failed: %s", sqlite3_errmsg(c->db));
        return NULL;
    }
    return st;
}

static int step_done(struct catalog *c, sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    c->last_rc = rc;
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        if ((rc & 0xff) != SQLITE_CONSTRAINT)
            hc_log("catalog: %s", sqlite3_errmsg(c->db));
        return -1;
    }
    return 0;
}

static int exec_v(struct catalog *c, const char *sql, const char *fmt, va_list ap)
{
    sqlite3_stmt *st;

    if (c->pg)
        return catpg_exec(c->pg, sql, fmt, ap);
    st = bindv(c, sql, NULL, fmt, ap);
    if (!st || step_done(c, st) < 0)
        return -1;
    return sqlite3_changes(c->db);
}

int cat_exec(struct catalog *c, const char *sql, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = exec_v(c, sql, fmt, ap);
    va_end(ap);
    return n;
}

int64_t cat_insert(struct catalog *c, const char *sql, const char *fmt, ...)
{
    va_list ap;
    sqlite3_stmt *st;

    va_start(ap, fmt);
    if (c->pg) {
        int64_t id = catpg_insert(c->pg, sql, fmt, ap);
        va_end(ap);
        return id;
    }
    st = bindv(c, sql, NULL, fmt, ap);
    va_end(ap);
    if (!st || step_done(c, st) < 0)
        return -1;
    return sqlite3_last_insert_rowid(c->db);
}

/* One step for the typed getters: STEP_ROW, DB_NOTFOUND, or a negative rc.
 * (STEP_ROW is not 1: that is DB_NOTFOUND.) */
#define STEP_ROW 2
static int step_one(struct catalog *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return sqlite3_column_type(st, 0) == SQLITE_NULL ? DB_NOTFOUND : STEP_ROW;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return DB_NOTFOUND;
    c->last_rc = rc;
    hc_log("catalog: %s", sqlite3_errmsg(c->db));
    return cat_rc(c);
}

int cat_get_int(struct catalog *c, int64_t *out, const char *sql, const char *fmt, ...)
{
    va_list ap;
    sqlite3_stmt *st;
    int rc;

    va_start(ap, fmt);
    if (c->pg) {
        rc = catpg_get_int(c->pg, out, sql, fmt, ap);
        va_end(ap);
        return rc;
    }
    st = bindv(c, sql, NULL, fmt, ap);
    va_end(ap);
    if (!st)
        return cat_rc(c);
    rc = step_one(c, st);
    if (rc == STEP_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = DB_OK;
    }
    sqlite3_reset(st);
    return rc;
}

int cat_get_text(struct catalog *c, char **out, const char *sql, const char *fmt, ...)
{
    va_list ap;
    sqlite3_stmt *st;
    int rc;

    va_start(ap, fmt);
    if (c->pg) {
        rc = catpg_get_text(c->pg, out, sql, fmt, ap);
        va_end(ap);
        return rc;
    }
    st = bindv(c, sql, NULL, fmt, ap);
    va_end(ap);
    if (!st)
        return cat_rc(c);
    rc = step_one(c, st);
    if (rc == STEP_ROW) {
        *out = hc_strdup((const char *)sqlite3_column_text(st, 0));
        rc = DB_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/* struct cat_stmt is SQLite's statement under another name: db/ modules
 * read columns through cat_col_* and never include sqlite3.h. */
#define ST(s) ((sqlite3_stmt *)(void *)(s))

/* The values as a JSON array, malloc'd (hc_malloc). */
static char *cat_json_ids(const int64_t *ids, size_t n)
{
    size_t cap = n * 21 + 3, len = 0;
    char *out = hc_malloc(cap);

    out[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%lld", i ? "," : "", (long long)ids[i]);
    out[len++] = ']';
    out[len] = '\0';
    return out;
}

static char *cat_json_texts(const char *const *v, size_t n)
{
    size_t cap = 3, len = 0;
    char *out;

    for (size_t i = 0; i < n; i++)
        cap += strlen(v[i]) * 6 + 3;    /* at worst every byte a \u00XX */
    out = hc_malloc(cap);
    out[len++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[len++] = ',';
        out[len++] = '"';
        for (const unsigned char *s = (const unsigned char *)v[i]; *s; s++) {
            if (*s == '"' || *s == '\\') {
                out[len++] = '\\';
                out[len++] = (char)*s;
            } else if (*s < 0x20) {
                len += (size_t)snprintf(out + len, cap - len, "\\u%04x", *s);
            } else {
                out[len++] = (char)*s;
            }
        }
        out[len++] = '"';
    }
    out[len++] = ']';
    out[len] = '\0';
    return out;
}

static struct cat_stmt *queryv(struct catalog *c, const char *sql, const char *lead, const char *fmt,
                               va_list ap)
{
    if (c->pg)
        return catpg_query(c->pg, sql, lead, fmt, ap);
    return (struct cat_stmt *)(void *)bindv(c, sql, lead, fmt, ap);
}

struct cat_stmt *cat_query(struct catalog *c, const char *sql, const char *fmt, ...)
{
    va_list ap;
    struct cat_stmt *st;

    va_start(ap, fmt);
    st = queryv(c, sql, NULL, fmt, ap);
    va_end(ap);
    return st;
}

/* cat_query_ids and cat_query_texts: json bound first, then fmt's values. */
static struct cat_stmt *query_list(struct catalog *c, const char *const sql[2], char *json,
                                   const char *fmt, va_list ap)
{
    struct cat_stmt *st = queryv(c, sql[c->pg != NULL], json, fmt, ap);

    free(json);
    return st;
}

struct cat_stmt *cat_query_ids(struct catalog *c, const char *const sql[2], const int64_t *ids, size_t n,
                               const char *fmt, ...)
{
    va_list ap;
    struct cat_stmt *st;

    va_start(ap, fmt);
    st = query_list(c, sql, cat_json_ids(ids, n), fmt, ap);
    va_end(ap);
    return st;
}

struct cat_stmt *cat_query_texts(struct catalog *c, const char *const sql[2], const char *const *v,
                                 size_t n, const char *fmt, ...)
{
    va_list ap;
    struct cat_stmt *st;

    va_start(ap, fmt);
    st = query_list(c, sql, cat_json_texts(v, n), fmt, ap);
    va_end(ap);
    return st;
}

int cat_step(struct catalog *c, struct cat_stmt *s)
{
    int rc;

    if (CATPG_IS_STMT(s))
        return catpg_step(c->pg, s);
    rc = sqlite3_step(ST(s));

    if (rc == SQLITE_ROW)
        return 1;
    sqlite3_reset(ST(s));
    if (rc == SQLITE_DONE)
        return 0;
    c->last_rc = rc;
    if ((rc & 0xff) != SQLITE_CONSTRAINT)
        hc_log("catalog: %s", sqlite3_errmsg(c->db));
    return cat_rc(c);
}

void cat_end(struct cat_stmt *s)
{
    if (s && CATPG_IS_STMT(s))
        catpg_end(s);
    else if (s)
        sqlite3_reset(ST(s));
}

int64_t cat_col_int(struct cat_stmt *s, int i)
{
    if (CATPG_IS_STMT(s))
        return catpg_col_int(s, i);
    return sqlite3_column_int64(ST(s), i);
}

double cat_col_double(struct cat_stmt *s, int i)
{
    if (CATPG_IS_STMT(s))
        return catpg_col_double(s, i);
    return sqlite3_column_double(ST(s), i);
}

const char *cat_col_text(struct cat_stmt *s, int i)
{
    const unsigned char *t;

    if (CATPG_IS_STMT(s))
        return catpg_col_text(s, i);
    t = sqlite3_column_text(ST(s), i);
    return t ? (const char *)t : "";
}

int cat_col_null(struct cat_stmt *s, int i)
{
    if (CATPG_IS_STMT(s))
        return catpg_col_null(s, i);
    return sqlite3_column_type(ST(s), i) == SQLITE_NULL;
}

void cat_col_copy(struct cat_stmt *s, int i, char *buf, size_t bufsz)
{
    hc_strlcpy(buf, cat_col_text(s, i), bufsz);
}

int cat_begin(struct catalog *c)
{
    return cat_exec(c, "BEGIN IMMEDIATE", "") < 0 ? -1 : 0;
}

int cat_commit(struct catalog *c)
{
    if (cat_exec(c, "COMMIT", "") < 0) {
        cat_rollback(c);
        return -1;
    }
    return 0;
}

/* Keeps the rc of the failure that led here: cat_rc() after a failed
 * statement and a rollback still says why the statement failed. */
void cat_rollback(struct catalog *c)
{
    int rc = c->last_rc;

    if (c->pg) {                /* a ROLLBACK that works keeps the rc */
        if (catpg_in_transaction(c->pg))
            cat_exec(c, "ROLLBACK", "");
        return;
    }
    if (!sqlite3_get_autocommit(c->db))
        cat_exec(c, "ROLLBACK", "");
    c->last_rc = rc;
}

int db_begin(struct catalog *c)
{
    return cat_exec(c, "BEGIN IMMEDIATE", "") < 0 ? cat_rc(c) : DB_OK;
}

int db_begin_update(struct catalog *c, const char *sql, const char *fmt, ...)
{
    va_list ap;
    int rc, n;

    if ((rc = db_begin(c)) < 0)
        return rc;
    va_start(ap, fmt);
    n = exec_v(c, sql, fmt, ap);
    va_end(ap);
    if (n < 0)
        return db_fail(c);
    if (n == 0) {
        cat_rollback(c);
        return DB_NOTFOUND;
    }
    return DB_OK;
}

int db_begin_rows(struct catalog *c)
{
    if (!c->pg)
        return db_begin(c);
    return cat_exec(c, "BEGIN", "") < 0 ? cat_rc(c) : DB_OK;
}

int cat_is_pg(struct catalog *c)
{
    return c->pg != NULL;
}

int db_commit(struct catalog *c)
{
    int rc;

    if (cat_exec(c, "COMMIT", "") >= 0)
        return DB_OK;
    rc = cat_rc(c);
    cat_rollback(c);
    return rc;
}

int db_fail(struct catalog *c)
{
    int rc = cat_rc(c);

    cat_rollback(c);
    return rc;
}

void db_rollback(struct catalog *c)
{
    cat_rollback(c);
}

void catalog_busy_timeout(struct catalog *c, int ms)
{
    if (c->pg)
        catpg_busy_timeout(c->pg, ms);
    else
        sqlite3_busy_timeout(c->db, ms);
}

int catalog_lost(struct catalog *c)
{
    return c->pg ? catpg_lost(c->pg) : 0;
}

const char *cat_errmsg(struct catalog *c)
{
    if (c->pg)
        return catpg_errmsg(c->pg);
    return sqlite3_errmsg(c->db);
}

/* Grow *arr (of elem-sized items) by one zeroed slot and return it. */
static void *list_push(void **arr, size_t *n, size_t *cap, size_t elem)
{
    char *slot;

    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *arr = hc_realloc(*arr, *cap * elem);
    }
    slot = (char *)*arr + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

int cat_read_list(struct catalog *c, struct cat_stmt *st, size_t elem,
                  void (*fill)(struct cat_stmt *, void *), void **out, size_t *n)
{
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1)
        fill(st, list_push(out, n, &cap, elem));
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}
