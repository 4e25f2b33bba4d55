/*
 * catalog_pg.c - the PostgreSQL backend of the catalog, on libpq. The
 * db_*.c modules write the same statements for both engines (`?`
 * placeholders, the same fmt-typed binding); this file turns `?` and `?N`
 * into $N, binds integers as int8, doubles as float8, blobs as bytea and
 * leaves text untyped (so that a citext column compares as citext), reads
 * rows from the PGresult, and maps SQLSTATEs to enum db_rc.
 *
 * Transactions keep SQLite's meaning: db_begin ("BEGIN IMMEDIATE") takes
 * one transaction-scoped advisory lock that every writer's transaction
 * takes, so explicit transactions run one at a time across all servers,
 * as they do on one SQLite file. Waiting for a lock ends after the busy
 * timeout (lock_timeout) with DB_BUSY. A lost connection fails the call
 * with DB_ERROR and is re-established on the next call.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libpq-fe.h>

#include "catalog.h"
#include "catalog_pg.h"
#include "util.h"

#define OID_BYTEA   17
#define OID_INT8    20
#define OID_TEXT    25
#define OID_FLOAT8  701
#define MAX_PARAMS  64
#define STMT_CACHE_MIN 256
/* The advisory lock of writers' transactions ("HUBC"); leader.c's locks
 * use the two-key form, a separate key space. */
#define WRITER_LOCK "SELECT pg_advisory_xact_lock(1213548867)"

struct pg_stmt {
    struct catpg *p;
    const char *sql;         /* the module's text, by address */
    char       *text;        /* with $N placeholders */
    char       *text_ret;    /* the same + RETURNING id, for cat_insert */
    int         nparams;
    unsigned char is_null_first[MAX_PARAMS + 1];  /* by $N: first used in IS [NOT] NULL */
    unsigned    id;          /* names its prepared forms: hc<id>_<form> */
    unsigned    prepared[2]; /* connection generation each form was prepared in */
    char        sig[2][MAX_PARAMS + 1];          /* and with which parameter types */
    PGresult   *res;         /* rows of the last cat_query */
    int         row, nrows;
};

struct catpg {
    PGconn  *conn;
    int      last_rc;        /* enum db_rc of the last failure */
    char     errmsg[512];
    int      lock_ms;
    unsigned gen;            /* connection generation: prepared statements die with it */
    unsigned nstmt;
    int    (*fault)(void);
    struct pg_stmt **cache;  /* open addressing by text address */
    size_t   ncache, nused;
};

#define TAG(st)   ((struct cat_stmt *)(void *)((uintptr_t)(st) | 1u))
#define UNTAG(s)  ((struct pg_stmt *)(void *)((uintptr_t)(void *)(s) & ~(uintptr_t)1u))

int catpg_is_url(const char *path)
{
    return path && (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

int catpg_latest_version(void)
{
    int v = 0;
    for (const struct migration *m = catalog_migrations_pg; m->sql; m++)
        if (m->version > v)
            v = m->version;
    return v;
}

/* ------------------------------------------------------------------------
 * Errors and the connection.
 */
static int map_state(const char *st)
{
    if (!st || strlen(st) != 5)
        return DB_ERROR;
    if (!strcmp(st, "40001") || !strcmp(st, "40P01") || !strcmp(st, "55P03") || !strcmp(st, "57014"))
        return DB_BUSY;      /* serialization, deadlock, lock or statement timeout */
    if (!strncmp(st, "23", 2))
        return DB_CONSTRAINT;
    if (!strcmp(st, "53100"))
        return DB_FULL;      /* disk_full */
    return DB_ERROR;
}

static void fail_res(struct catpg *p, PGresult *res)
{
    const char *st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : NULL;

    if (!msg || !*msg)
        msg = PQerrorMessage(p->conn);
    p->last_rc = map_state(st);
    snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg ? msg : "unknown error");
    p->errmsg[strcspn(p->errmsg, "\n")] = '\0';
    if (p->last_rc != DB_CONSTRAINT)
        hc_log("catalog: %s%s%s", p->errmsg, st ? " SQLSTATE " : "", st ? st : "");
}

static void apply_session(struct catpg *p)
{
    char q[96];
    PGresult *r;

    snprintf(q, sizeof(q), "SET lock_timeout = %d", p->lock_ms);
    r = PQexec(p->conn, q);
    PQclear(r);
    /* Quiet NOTICEs (IF NOT EXISTS ...) instead of stderr noise. */
    r = PQexec(p->conn, "SET client_min_messages = warning");
    PQclear(r);
}

/* A usable connection, re-established if it was lost; false with the
 * failure recorded. */
static bool ensure_conn(struct catpg *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK)
        return true;
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        p->last_rc = DB_ERROR;
        snprintf(p->errmsg, sizeof(p->errmsg), "%s", PQerrorMessage(p->conn));
        p->errmsg[strcspn(p->errmsg, "\n")] = '\0';
        hc_log("catalog: cannot reconnect: %s", p->errmsg);
        return false;
    }
    hc_log("catalog: reconnected to PostgreSQL");
    p->gen++;
    apply_session(p);
    return true;
}

/* ------------------------------------------------------------------------
 * Statement texts: `?` -> $N, once per text (cached by address).
 */
/* SQLite's numbering: `?` is the highest so far + 1, `?N` is N, and a
 * named parameter (`:name`, `@name`, `$name`) takes the highest + 1 where
 * it first appears and the same number again after. Text in quotes is
 * copied as it is. */
static bool name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* "   IS NULL" or "IS NOT NULL" at s. */
static bool null_test(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t')
        s++;
    if (strncasecmp(s, "IS", 2) || (s[2] != ' ' && s[2] != '\n'))
        return false;
    s += 3;
    while (*s == ' ')
        s++;
    if (!strncasecmp(s, "NOT ", 4))
        for (s += 4; *s == ' '; s++)
            ;
    return !strncasecmp(s, "NULL", 4) && !name_char(s[4]);
}

/* Whether the text written so far (out .. o) ends with the keyword LIMIT. */
static bool after_limit(const char *out, const char *o)
{
    while (o > out && (o[-1] == ' ' || o[-1] == '\n' || o[-1] == '\t'))
        o--;
    return o - out >= 5 && !strncasecmp(o - 5, "LIMIT", 5) && (o - out == 5 || !name_char(o[-6]));
}

static char *convert(const char *sql, int *nparams, unsigned char *is_null_first)
{
    size_t n = strlen(sql);
    size_t cap = n * 16 + 64;       /* "?" becomes at most the LIMIT CASE */
    char *out = hc_calloc(1, cap), *o = out;
    struct pname { const char *at; size_t len; int k; } names[MAX_PARAMS];
    int nnames = 0, max = 0;
    char quote = 0;

    for (const char *s = sql; *s; s++) {
        int k = 0;
        if (quote) {
            if (*s == quote)
                quote = 0;
            *o++ = *s;
            continue;
        }
        if (*s == '\'' || *s == '"') {
            quote = *s;
            *o++ = *s;
            continue;
        }
        if (*s == '?') {
            if (s[1] >= '0' && s[1] <= '9') {
                char *end;
                k = (int)strtol(s + 1, &end, 10);
                s = end - 1;
            } else {
                k = max + 1;
            }
        } else if ((*s == ':' || *s == '@' || *s == '$') && name_char(s[1]) &&
                   !(*s == ':' && s > sql && s[-1] == ':')) {
            const char *name = s + 1;
            size_t len = 0;
            while (name_char(name[len]))
                len++;
            for (int i = 0; i < nnames && !k; i++)
                if (names[i].len == len && !memcmp(names[i].at, name, len))
                    k = names[i].k;
            if (!k) {
                k = max + 1;
                if (nnames < MAX_PARAMS)
                    names[nnames++] = (struct pname){ name, len, k };
            }
            s = name + len - 1;
        } else {
            *o++ = *s;
            continue;
        }
        if (k > max) {
            /* The first use decides an untyped parameter's type, and
             * "$1 IS NULL" decides none: such a one is bound as text. */
            if (k <= MAX_PARAMS && null_test(s + 1))
                is_null_first[k] = 1;
            max = k;
        }
        if (after_limit(out, o))     /* SQLite: a negative LIMIT is no limit */
            o += snprintf(o, cap - (size_t)(o - out), "CASE WHEN $%d < 0 THEN NULL ELSE $%d END", k, k);
        else
            o += snprintf(o, cap - (size_t)(o - out), "$%d", k);
    }
    *o = '\0';
    *nparams = max;
    return out;
}

static struct pg_stmt **cache_slot(struct pg_stmt **cache, size_t n, const char *sql)
{
    size_t k = ((uintptr_t)sql >> 3) & (n - 1);
    while (cache[k] && cache[k]->sql != sql)
        k = (k + 1) & (n - 1);
    return &cache[k];
}

static struct pg_stmt *stmt_for(struct catpg *p, const char *sql)
{
    struct pg_stmt **slot;

    if (2 * (p->nused + 1) > p->ncache) {
        size_t n = p->ncache ? p->ncache * 2 : STMT_CACHE_MIN;
        struct pg_stmt **cache = hc_calloc(n, sizeof(*cache));
        for (size_t i = 0; i < p->ncache; i++)
            if (p->cache[i])
                *cache_slot(cache, n, p->cache[i]->sql) = p->cache[i];
        free(p->cache);
        p->cache = cache;
        p->ncache = n;
    }
    slot = cache_slot(p->cache, p->ncache, sql);
    if (!*slot) {
        struct pg_stmt *st = hc_calloc(1, sizeof(*st));
        st->p = p;
        st->sql = sql;
        st->text = convert(sql, &st->nparams, st->is_null_first);
        st->id = ++p->nstmt;
        *slot = st;
        p->nused++;
    }
    return *slot;
}

static bool tx_control(const char *text)
{
    return !strncasecmp(text, "BEGIN", 5) || !strncasecmp(text, "COMMIT", 6) ||
           !strncasecmp(text, "ROLLBACK", 8) || !strncasecmp(text, "SAVEPOINT", 9) ||
           !strncasecmp(text, "RELEASE", 7) || !strncasecmp(text, "END", 3);
}

/* Run text with the parameters of fmt: the result (command or tuples OK),
 * or NULL with the failure recorded. */
/* Type letters of a call, to tell whether a prepared form fits it. */
static char sig_of(Oid t)
{
    return t == OID_INT8 ? 'i' : t == OID_FLOAT8 ? 'd' : t == OID_BYTEA ? 'b' : t == OID_TEXT ? 't' : 'u';
}

/* Execute, through st's prepared form (made on first use per connection)
 * when there is one, else as a one-off. */
static PGresult *execute(struct catpg *p, struct pg_stmt *st, int form, const char *text, int n,
                         const Oid *types, const char *const *vals, const int *lens, const int *fmts)
{
    char name[32], sig[MAX_PARAMS + 1];

    if (!st || tx_control(text))
        return PQexecParams(p->conn, text, n, types, vals, lens, fmts, 0);
    for (int i = 0; i < n; i++)
        sig[i] = sig_of(types[i]);
    sig[n] = '\0';
    snprintf(name, sizeof(name), "hc%u_%d", st->id, form);
    if (st->prepared[form] != p->gen) {
        PGresult *r = PQprepare(p->conn, name, text, n, types);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            return r;    /* the failure, reported by the caller */
        PQclear(r);
        st->prepared[form] = p->gen;
        memcpy(st->sig[form], sig, (size_t)n + 1);
    } else if (strcmp(st->sig[form], sig)) {
        return PQexecParams(p->conn, text, n, types, vals, lens, fmts, 0);
    }
    return PQexecPrepared(p->conn, name, n, vals, lens, fmts, 0);
}

/* lead, when not NULL, is a text bound as $1 before the values of fmt. */
static PGresult *run(struct catpg *p, struct pg_stmt *st, int form, const char *text,
                     const char *lead, const char *fmt, va_list *ap)
{
    const unsigned char *hint = st ? st->is_null_first : NULL;
    const char *vals[MAX_PARAMS];
    int lens[MAX_PARAMS], fmts[MAX_PARAMS];
    Oid types[MAX_PARAMS];
    char num[MAX_PARAMS][32];
    int n = 0;
    PGresult *res;
    ExecStatusType es;
    bool sp;

    if (p->fault && p->fault()) {
        p->last_rc = DB_ERROR;
        snprintf(p->errmsg, sizeof(p->errmsg), "injected fault");
        hc_log("catalog: injected fault");
        return NULL;
    }
    if (lead) {
        vals[0] = lead;
        lens[0] = fmts[0] = 0;
        types[0] = hint && hint[1] ? OID_TEXT : 0;
        n = 1;
    }
    for (const char *f = fmt; *f; f++, n++) {
        if (n == MAX_PARAMS) {
            hc_log("catalog: too many parameters");
            p->last_rc = DB_ERROR;
            return NULL;
        }
        lens[n] = 0;
        fmts[n] = 0;
        types[n] = 0;
        vals[n] = num[n];
        switch (*f) {
        case 'i': snprintf(num[n], sizeof(num[n]), "%d", va_arg(*ap, int)); types[n] = OID_INT8; break;
        case 'I': snprintf(num[n], sizeof(num[n]), "%" PRId64, va_arg(*ap, int64_t)); types[n] = OID_INT8; break;
        case 'd': snprintf(num[n], sizeof(num[n]), "%.17g", va_arg(*ap, double)); types[n] = OID_FLOAT8; break;
        case 's': vals[n] = va_arg(*ap, const char *); types[n] = hint && hint[n + 1] ? OID_TEXT : 0; break;
        case 'b':
            vals[n] = va_arg(*ap, const void *);
            lens[n] = va_arg(*ap, int);
            fmts[n] = 1;
            types[n] = OID_BYTEA;
            break;
        case 'n': vals[n] = NULL; types[n] = hint && hint[n + 1] ? OID_TEXT : 0; break;
        default:
            hc_log("catalog: bad bind format '%c'", *f);
            p->last_rc = DB_ERROR;
            return NULL;
        }
    }
    if (!ensure_conn(p))
        return NULL;
    /* In SQLite a failed statement leaves its transaction usable (the
     * caller decides: db_fail, or carry on); in PostgreSQL it aborts it.
     * Inside a transaction each statement runs under a savepoint, and a
     * failure rolls back to it only. */
    sp = PQtransactionStatus(p->conn) == PQTRANS_INTRANS && !tx_control(text);
    if (sp)
        PQclear(PQexec(p->conn, "SAVEPOINT hc_stmt"));
    res = execute(p, st, form, text, n, types, vals, lens, fmts);
    es = PQresultStatus(res);
    if (es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK) {
        if (sp)
            PQclear(PQexec(p->conn, "RELEASE SAVEPOINT hc_stmt"));
        return res;
    }
    fail_res(p, res);
    if (p->last_rc == DB_ERROR)
        hc_log("catalog: in: %s", text);
    PQclear(res);
    if (sp) {
        PQclear(PQexec(p->conn, "ROLLBACK TO SAVEPOINT hc_stmt"));
        PQclear(PQexec(p->conn, "RELEASE SAVEPOINT hc_stmt"));
    }
    return NULL;
}

static PGresult *run_plain(struct catpg *p, const char *text)
{
    return run(p, NULL, 0, text, NULL, "", NULL);   /* an empty fmt reads no argument */
}

/* run() with the caller's va_list (copied: a va_list parameter cannot be
 * passed on by address portably). */
static PGresult *run_ap(struct catpg *p, struct pg_stmt *st, const char *text, const char *lead,
                        const char *fmt, va_list ap)
{
    va_list cp;
    PGresult *r;

    va_copy(cp, ap);
    r = run(p, st, text == st->text ? 0 : 1, text, lead, fmt, &cp);
    va_end(cp);
    return r;
}

/* ------------------------------------------------------------------------
 * Migrations (db/pg/NNN_*.sql), each in a transaction under the writer
 * lock, so that servers starting together apply each once.
 */
static int simple(struct catpg *p, const char *sql)
{
    PGresult *r = PQexec(p->conn, sql);
    ExecStatusType es = PQresultStatus(r);

    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
        fail_res(p, r);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

static int version_now(struct catpg *p)
{
    PGresult *r = PQexec(p->conn, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    long v = -1;

    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
        hc_parse_long(PQgetvalue(r, 0, 0), 0, INT_MAX, &v) < 0) {
        v = -1;
        fail_res(p, r);
    }
    PQclear(r);
    return (int)v;
}

static int migrate(struct catpg *p, int apply, char *err, size_t errsz)
{
    int have, latest = catpg_latest_version();

    PGresult *r = PQexec(p->conn, "SELECT to_regclass('schema_version') IS NOT NULL");
    bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                  !strcmp(PQgetvalue(r, 0, 0), "t");

    PQclear(r);
    /* Made once, under the writers' lock (servers may start together);
     * an ordinary connection does not wait for that lock. */
    if (!exists && (simple(p, "BEGIN") < 0 || simple(p, WRITER_LOCK) < 0 ||
        simple(p, "CREATE TABLE IF NOT EXISTS schema_version ("
                  " version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)") < 0 ||
        simple(p, "COMMIT") < 0)) {
        snprintf(err, errsz, "cannot create the schema_version table: %s", p->errmsg);
        return -1;
    }
    if ((have = version_now(p)) < 0) {
        snprintf(err, errsz, "cannot read the schema version: %s", p->errmsg);
        return -1;
    }
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
    for (const struct migration *m = catalog_migrations_pg; m->sql; m++) {
        char ins[512];
        if (simple(p, "BEGIN") < 0 || simple(p, WRITER_LOCK) < 0)
            goto fail;
        if ((have = version_now(p)) < 0)
            goto fail;
        if (m->version <= have) {          /* another server applied it */
            simple(p, "ROLLBACK");
            continue;
        }
        snprintf(ins, sizeof(ins), "INSERT INTO schema_version(version, name, applied_at) "
                 "VALUES (%d, '%s', %" PRId64 ")", m->version, m->name, (int64_t)hc_now());
        if (simple(p, m->sql) < 0 || simple(p, ins) < 0 || simple(p, "COMMIT") < 0) {
            simple(p, "ROLLBACK");
            goto fail;
        }
        hc_log("catalog: applied migration pg/%s", m->name);
        continue;
fail:
        snprintf(err, errsz, "migration pg/%s failed: %s", m->name, p->errmsg);
        return -1;
    }
    return 0;
}

struct catpg *catpg_open(const char *url, int apply, int (*fault)(void), char *err, size_t errsz)
{
    struct catpg *p = hc_calloc(1, sizeof(*p));

    p->lock_ms = 10000;
    p->gen = 1;
    p->fault = fault;
    p->conn = PQconnectdb(url);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        char msg[400];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(p->conn));
        msg[strcspn(msg, "\n")] = '\0';
        /* The URL may carry a password: name only the failure. */
        snprintf(err, errsz, "cannot connect to the PostgreSQL catalog: %s", msg);
        catpg_close(p);
        return NULL;
    }
    apply_session(p);
    if (migrate(p, apply, err, errsz) < 0) {
        catpg_close(p);
        return NULL;
    }
    return p;
}

void catpg_close(struct catpg *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ncache; i++) {
        struct pg_stmt *st = p->cache[i];
        if (!st)
            continue;
        PQclear(st->res);
        free(st->text);
        free(st->text_ret);
        free(st);
    }
    free(p->cache);
    PQfinish(p->conn);
    free(p);
}

/* ------------------------------------------------------------------------
 * The cat_* primitives.
 */
static int commit(struct catpg *p)
{
    PGresult *r;
    int ok;

    /* A statement failed inside the transaction: PostgreSQL turns COMMIT
     * into ROLLBACK; report it as the failure it is. */
    if (PQtransactionStatus(p->conn) == PQTRANS_INERROR) {
        simple(p, "ROLLBACK");
        if (p->last_rc == DB_OK)
            p->last_rc = DB_ERROR;
        return -1;
    }
    r = run_plain(p, "COMMIT");
    if (!r)
        return -1;
    ok = strcmp(PQcmdStatus(r), "ROLLBACK") != 0;
    PQclear(r);
    if (!ok) {
        p->last_rc = DB_ERROR;
        return -1;
    }
    return 0;
}

int catpg_exec(struct catpg *p, const char *sql, const char *fmt, va_list ap)
{
    struct pg_stmt *st;
    PGresult *r;
    int n;

    if (!strcmp(sql, "BEGIN IMMEDIATE")) {
        if (!(r = run_plain(p, "BEGIN")))
            return -1;
        PQclear(r);
        if (!(r = run_plain(p, WRITER_LOCK))) {
            int rc = p->last_rc;
            simple(p, "ROLLBACK");
            p->last_rc = rc;
            return -1;
        }
        PQclear(r);
        return 0;
    }
    if (!strcmp(sql, "COMMIT"))
        return commit(p);
    st = stmt_for(p, sql);
    if (!(r = run_ap(p, st, st->text, NULL, fmt, ap)))
        return -1;
    {
        long rows = 0;      /* "" for commands that count no rows */
        const char *t = PQcmdTuples(r);
        if (*t && hc_parse_long(t, 0, INT_MAX, &rows) < 0)
            rows = 0;
        n = (int)rows;
    }
    PQclear(r);
    return n;
}

int64_t catpg_insert(struct catpg *p, const char *sql, const char *fmt, va_list ap)
{
    struct pg_stmt *st = stmt_for(p, sql);
    PGresult *r;
    int64_t id = 0;

    if (!st->text_ret) {
        size_t n = strlen(st->text) + 16;
        st->text_ret = hc_malloc(n);
        /* The row's id, as SQLite's rowid (tables without one: 0). */
        snprintf(st->text_ret, n, "%s%s", st->text, strstr(st->text, "RETURNING") ? "" : " RETURNING *");
    }
    if (!(r = run_ap(p, st, st->text_ret, NULL, fmt, ap)))
        return -1;
    if (PQntuples(r) > 0 && PQnfields(r) > 0) {
        int col = strstr(st->text, "RETURNING") ? 0 : PQfnumber(r, "id");
        if (col >= 0)
            id = strtoll(PQgetvalue(r, 0, col), NULL, 10);
    }
    PQclear(r);
    return id;
}

/* First row's first column: PGresult with DB_OK, or DB_NOTFOUND/negative. */
static int get_one(struct catpg *p, PGresult **out, const char *sql, const char *fmt, va_list ap)
{
    struct pg_stmt *st = stmt_for(p, sql);
    PGresult *r = run_ap(p, st, st->text, NULL, fmt, ap);

    if (!r)
        return p->last_rc;
    if (PQntuples(r) == 0 || PQnfields(r) == 0 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return DB_NOTFOUND;
    }
    *out = r;
    return DB_OK;
}

static int64_t to_int(const char *v)
{
    if (v[0] == 't' && !v[1])       /* booleans read as SQLite's 1 and 0 */
        return 1;
    if (v[0] == 'f' && !v[1])
        return 0;
    if (strchr(v, '.') || strchr(v, 'e'))
        return (int64_t)strtod(v, NULL);
    return strtoll(v, NULL, 10);
}

int catpg_get_int(struct catpg *p, int64_t *out, const char *sql, const char *fmt, va_list ap)
{
    PGresult *r = NULL;
    int rc = get_one(p, &r, sql, fmt, ap);

    if (rc == DB_OK) {
        *out = to_int(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    return rc;
}

int catpg_get_text(struct catpg *p, char **out, const char *sql, const char *fmt, va_list ap)
{
    PGresult *r = NULL;
    int rc = get_one(p, &r, sql, fmt, ap);

    if (rc == DB_OK) {
        *out = hc_strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    return rc;
}

struct cat_stmt *catpg_query(struct catpg *p, const char *sql, const char *lead, const char *fmt,
                             va_list ap)
{
    struct pg_stmt *st = stmt_for(p, sql);

    PQclear(st->res);
    st->res = run_ap(p, st, st->text, lead, fmt, ap);
    if (!st->res)
        return NULL;
    st->row = -1;
    st->nrows = PQntuples(st->res);
    return TAG(st);
}

int catpg_step(struct catpg *p, struct cat_stmt *s)
{
    struct pg_stmt *st = UNTAG(s);

    (void)p;
    if (st->res && ++st->row < st->nrows)
        return 1;
    PQclear(st->res);
    st->res = NULL;
    return 0;
}

void catpg_end(struct cat_stmt *s)
{
    struct pg_stmt *st = UNTAG(s);
    PQclear(st->res);
    st->res = NULL;
}

static const char *val(struct pg_stmt *st, int i)
{
    if (!st->res || st->row < 0 || st->row >= st->nrows || i >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, i))
        return NULL;
    return PQgetvalue(st->res, st->row, i);
}

int64_t catpg_col_int(struct cat_stmt *s, int i)
{
    const char *v = val(UNTAG(s), i);
    return v ? to_int(v) : 0;
}

double catpg_col_double(struct cat_stmt *s, int i)
{
    const char *v = val(UNTAG(s), i);
    if (!v)
        return 0;
    if (v[0] == 't' && !v[1])
        return 1;
    return strtod(v, NULL);
}

const char *catpg_col_text(struct cat_stmt *s, int i)
{
    const char *v = val(UNTAG(s), i);
    return v ? v : "";
}

int catpg_col_null(struct cat_stmt *s, int i)
{
    return val(UNTAG(s), i) == NULL;
}

int catpg_rc(struct catpg *p)
{
    return p->last_rc == DB_OK ? DB_ERROR : p->last_rc;
}

const char *catpg_errmsg(struct catpg *p)
{
    return p->errmsg;
}

int catpg_in_transaction(struct catpg *p)
{
    PGTransactionStatusType t = PQtransactionStatus(p->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

void catpg_busy_timeout(struct catpg *p, int ms)
{
    p->lock_ms = ms;
    if (PQstatus(p->conn) == CONNECTION_OK)
        apply_session(p);
}

int catpg_lost(struct catpg *p)
{
    return PQstatus(p->conn) != CONNECTION_OK;
}
