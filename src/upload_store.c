/*
 * upload_store.c - tus uploads in progress kept in the S3 media store: the
 * multipart upload of uploads/<id>, its parts and tail, the catalog record
 * that moves only over stored bytes, the sweep of multipart uploads nobody
 * knows. See upload_store.h for the layout; the tus protocol itself stays
 * in uploads.c.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "conf.h"
#include "db_uploads.h"
#include "s3.h"
#include "store.h"
#include "upload_store.h"
#include "util.h"

#define BUFFERS_MAX  64          /* requests holding an 8 MiB buffer at once */
#define MAX_PARTS    10000       /* S3's limit */
#define SWEEP_MAX    1000        /* multipart uploads looked at per sweep */

/* ---- the store and its clients ---- */

static pthread_mutex_t buffers_lock = PTHREAD_MUTEX_INITIALIZER;
static int buffers;              /* buffers handed out */

/* The media store's settings and its pool of clients are store.c's (set
 * up by store_init in `serve`); uploads only borrow them. */
int ustore_enabled(const struct conf *c)
{
    (void)c;
    return store_is_s3();
}

struct s3_client *ustore_client(const struct conf *c)
{
    (void)c;
    return store_client();
}

void ustore_client_give(struct s3_client **cli)
{
    store_release(*cli);
    *cli = NULL;
}

void ustore_key(const char *id, char *out, size_t outsz)
{
    snprintf(out, outsz, "uploads/%s", id);
}

static void tail_key(const char *id, const char *name, char *out, size_t outsz)
{
    snprintf(out, outsz, "uploads/%s.tail.%s", id, name);
}

void ustore_token(char out[32])
{
    hc_random_token(out, 32, 16);
}

static void log_s3(struct s3_client *cli, const char *doing, const char *id, int rc)
{
    char detail[600];

    s3_error_format(cli, detail, sizeof(detail));
    hc_log("upload %s: %s: %s (%s)", id, doing, s3_rc_str(rc), detail);
}

int ustore_create(struct s3_client *cli, const char *id, char *mpu_id, size_t mpu_idsz)
{
    char key[64];
    int rc;

    ustore_key(id, key, sizeof(key));
    rc = s3_mpu_create(cli, key, NULL, mpu_id, mpu_idsz);
    if (rc != S3_OK)
        log_s3(cli, "starting its multipart upload", id, rc);
    return rc;
}

void ustore_drop_tails(struct s3_client *cli, const char *id)
{
    char prefix[64];
    int rc;

    /* Ids have no '.': this prefix is this upload's tails and nothing else. */
    snprintf(prefix, sizeof(prefix), "uploads/%s.tail.", id);
    if ((rc = s3_delete_prefix(cli, prefix, NULL)) != S3_OK)
        log_s3(cli, "deleting its tails", id, rc);
}

void ustore_discard(struct s3_client *cli, const char *id, const char *mpu_id)
{
    char key[64];
    int rc;

    ustore_key(id, key, sizeof(key));
    if (mpu_id && *mpu_id && (rc = s3_mpu_abort(cli, key, mpu_id)) != S3_OK && rc != S3_NOTFOUND)
        log_s3(cli, "aborting its multipart upload", id, rc);
    /* Completed by a request whose update was never recorded: it goes too. */
    if ((rc = s3_delete(cli, key)) != S3_OK)
        log_s3(cli, "deleting its object", id, rc);
    ustore_drop_tails(cli, id);
}

/* ---- the sweep ---- */

struct orphan {
    char key[64];
    char upload_id[256];
};

struct sweep {
    time_t before;
    struct orphan *found;
    size_t n;
};

static int sweep_one(void *ctx, const struct s3_upload *u)
{
    struct sweep *s = ctx;

    if (strncmp(u->key, "uploads/", 8) || u->initiated <= 0 || u->initiated >= s->before ||
        strlen(u->key) >= sizeof(s->found->key) || strlen(u->upload_id) >= sizeof(s->found->upload_id))
        return 0;
    hc_strlcpy(s->found[s->n].key, u->key, sizeof(s->found->key));
    hc_strlcpy(s->found[s->n].upload_id, u->upload_id, sizeof(s->found->upload_id));
    return ++s->n == SWEEP_MAX;
}

/* A tail's key (uploads/<id>.tail.<name>) and its upload's id, as listed. */
struct tail {
    char key[128];
    char id[DB_UPLOAD_ID_SIZE];
};

struct tails {
    struct tail *found;
    size_t n;
};

static int tail_one(void *ctx, const char *key, int64_t size)
{
    struct tails *t = ctx;
    const char *dot = strstr(key, ".tail.");
    size_t idlen;

    (void)size;
    if (strncmp(key, "uploads/", 8) || !dot || strlen(key) >= sizeof(t->found->key) ||
        (idlen = (size_t)(dot - key - 8)) == 0 || idlen >= sizeof(t->found->id) || memchr(key + 8, '/', idlen))
        return 0;
    hc_strlcpy(t->found[t->n].key, key, sizeof(t->found->key));
    memcpy(t->found[t->n].id, key + 8, idlen);
    t->found[t->n].id[idlen] = '\0';
    return ++t->n == SWEEP_MAX;
}

/*
 * Delete the tails whose upload has no row (it was finished, deleted or
 * expired, and deleting its tails failed then). No age is needed, unlike
 * for multipart uploads: a tail is stored only by a request holding its
 * upload's lease, so after the row exists. Returns how many went, or -1
 * when the store or catalog could not be read (logged).
 */
static int sweep_tails(struct s3_client *cli, struct catalog *cat)
{
    struct tails t = { .found = hc_calloc(SWEEP_MAX, sizeof(struct tail)) };
    char mpu[256];
    int rc, deleted = 0;

    if ((rc = s3_list(cli, "uploads/", tail_one, &t)) != S3_OK) {
        log_s3(cli, "listing the tails", "sweep", rc);
        free(t.found);
        return -1;
    }
    for (size_t i = 0; i < t.n; i++) {
        int known = db_upload_s3_id(cat, t.found[i].id, mpu, sizeof(mpu));

        if (known < 0 && known != DB_NOTFOUND) {
            hc_log("uploads: sweep: %s", db_rc_name(known));
            deleted = -1;
            break;
        }
        if (known == DB_OK)
            continue;
        if ((rc = s3_delete(cli, t.found[i].key)) != S3_OK) {
            log_s3(cli, "deleting a tail no upload knows", t.found[i].key, rc);
            continue;
        }
        hc_log("uploads: deleted the tail %s that no upload knows", t.found[i].key);
        deleted++;
    }
    free(t.found);
    return deleted;
}

int ustore_sweep(struct s3_client *cli, struct catalog *cat, time_t now, int64_t age)
{
    struct sweep s = { .before = now - (time_t)age, .found = hc_calloc(SWEEP_MAX, sizeof(struct orphan)) };
    int rc, aborted = 0;

    rc = s3_mpu_list(cli, "uploads/", sweep_one, &s);
    if (rc != S3_OK) {
        log_s3(cli, "listing the multipart uploads", "sweep", rc);
        free(s.found);
        return -1;
    }
    for (size_t i = 0; i < s.n; i++) {
        int known = db_upload_s3_known(cat, s.found[i].upload_id);

        if (known < 0) {
            hc_log("uploads: sweep: %s", db_rc_name(known));
            aborted = -1;
            break;
        }
        if (known == DB_OK)
            continue;
        rc = s3_mpu_abort(cli, s.found[i].key, s.found[i].upload_id);
        if (rc != S3_OK && rc != S3_NOTFOUND) {
            log_s3(cli, "aborting a multipart upload no upload knows", s.found[i].key, rc);
            continue;
        }
        hc_log("uploads: aborted the multipart upload of %s that no upload knows", s.found[i].key);
        aborted++;
    }
    free(s.found);
    if (aborted < 0 || (rc = sweep_tails(cli, cat)) < 0)
        return -1;
    return aborted + rc;
}

/* ---- one request writing an upload ---- */

struct ustore_w {
    const struct conf *conf;
    struct catalog    *cat;
    struct s3_client  *cli;
    char     id[DB_UPLOAD_ID_SIZE];
    char     key[64];            /* uploads/<id> */
    char     token[32];          /* our lease */
    char     mpu_id[256];
    int      defer;              /* record only at ustore_settle */
    int      nocat;              /* no row yet (one-request upload): nothing recorded */
    int      dead;               /* forgotten: nothing more is stored */
    int      has_buffer;         /* counted in `buffers` */
    /* now */
    int64_t  base;               /* bytes in the parts */
    int      parts;
    int      number;             /* the last part number handed out to anyone */
    char    *etags;              /* "N:ETag", space-separated, NUL-terminated */
    size_t   etags_len, etags_cap;
    unsigned char *buf;          /* bytes past the parts */
    size_t   len;
    size_t   tail_stored;        /* of buf, those the tail object holds */
    char     tail_name[48];
    /* recorded in the catalog */
    int64_t  rec_offset;
    int      rec_parts;
    size_t   rec_etags_len;
    int64_t  rec_tail;
    char     rec_tail_name[48];
    time_t   renewed;            /* when the lease was last pushed on */
    int      db_rc;              /* behind USTORE_CATALOG */
};

static enum ustore_rc db_fail_rc(struct ustore_w *w, int rc)
{
    if (rc == DB_INVALID)
        return USTORE_LOST;
    if (rc == DB_NOTFOUND)
        return USTORE_GONE;
    w->db_rc = rc;
    return USTORE_CATALOG;
}

/* Push the lease on when it was last pushed a while ago. */
static enum ustore_rc renew(struct ustore_w *w, int now_anyway)
{
    time_t now = hc_now();
    int rc;

    if (w->nocat || (!now_anyway && now - w->renewed < USTORE_LEASE_SECONDS / 4))
        return USTORE_OK;
    rc = db_upload_lease_renew(w->cat, w->id, w->token, (int64_t)now + USTORE_LEASE_SECONDS);
    if (rc != DB_OK)
        return db_fail_rc(w, rc);
    w->renewed = now;
    return USTORE_OK;
}

static void etags_append(struct ustore_w *w, const char *etag)
{
    size_t n = strlen(etag);

    if (w->etags_len + n + 2 > w->etags_cap) {
        w->etags_cap = (w->etags_len + n + 2) * 2;
        w->etags = hc_realloc(w->etags, w->etags_cap);
    }
    if (w->etags_len)
        w->etags[w->etags_len++] = ' ';
    memcpy(w->etags + w->etags_len, etag, n + 1);
    w->etags_len += n;
}

/* The tail comes back into the buffer. The tail object is never
 * rewritten: it holds exactly `tail` bytes. */
static enum ustore_rc load_tail(struct ustore_w *w, int64_t tail)
{
    char tk[128], *data = NULL;
    size_t n = 0;
    int src;

    tail_key(w->id, w->tail_name, tk, sizeof(tk));
    src = s3_get_buffer(w->cli, tk, USTORE_BUFFER, &data, &n);
    if (src != S3_OK || n != (size_t)tail) {
        if (src == S3_OK)
            hc_log("upload %s: its tail has %zu bytes, not %lld", w->id, n, (long long)tail);
        else
            log_s3(w->cli, "reading its tail", w->id, src);
        free(data);
        return USTORE_STORE;
    }
    w->buf = hc_malloc(USTORE_BUFFER);
    memcpy(w->buf, data, n);
    w->len = n;
    free(data);
    return USTORE_OK;
}

enum ustore_rc ustore_begin(const struct conf *conf, struct catalog *cat, const struct db_upload *row,
                            const char *token, int defer, struct ustore_w **out)
{
    struct ustore_w *w = hc_calloc(1, sizeof(*w));
    enum ustore_rc rc = USTORE_OK;

    *out = NULL;
    w->conf = conf;
    w->cat = cat;
    w->defer = defer;
    w->renewed = hc_now();
    hc_strlcpy(w->id, row->id, sizeof(w->id));
    w->nocat = !token;
    hc_strlcpy(w->token, token ? token : "", sizeof(w->token));
    hc_strlcpy(w->mpu_id, row->s3_upload_id, sizeof(w->mpu_id));
    ustore_key(w->id, w->key, sizeof(w->key));
    w->parts = w->rec_parts = row->s3_parts;
    w->number = row->s3_last_number;
    etags_append(w, "");
    if (row->s3_etags && *row->s3_etags) {
        w->etags_len = 0;
        etags_append(w, row->s3_etags);
    }
    w->rec_etags_len = w->etags_len;
    w->rec_offset = row->offset;
    w->rec_tail = w->tail_stored = (size_t)row->s3_tail;
    w->base = row->offset - row->s3_tail;
    hc_strlcpy(w->tail_name, row->s3_tail_name, sizeof(w->tail_name));
    hc_strlcpy(w->rec_tail_name, row->s3_tail_name, sizeof(w->rec_tail_name));
    pthread_mutex_lock(&buffers_lock);
    if (buffers < BUFFERS_MAX) {
        buffers++;
        w->has_buffer = 1;
    }
    pthread_mutex_unlock(&buffers_lock);
    if (!w->has_buffer) {
        rc = USTORE_BUSY;
    } else if (!w->mpu_id[0] || row->s3_tail < 0 || row->s3_tail >= USTORE_BUFFER || w->base < 0) {
        hc_log("upload %s: its record in the catalog does not describe S3 parts", w->id);
        rc = USTORE_STORE;
    } else if (!(w->cli = ustore_client(conf))) {
        rc = USTORE_STORE;
    }
    if (rc == USTORE_OK && row->s3_tail > 0)
        rc = load_tail(w, row->s3_tail);
    if (rc != USTORE_OK) {
        ustore_end(&w);
        return rc;
    }
    *out = w;
    return USTORE_OK;
}

/* The buffer becomes part parts+1. */
static enum ustore_rc put_part(struct ustore_w *w)
{
    char etag[80], item[96];
    int src;

    if (w->number >= MAX_PARTS)
        return USTORE_TOO_LARGE;
    /* A part is stored only under a lease just confirmed as ours, with a
     * number nobody else gets: a request that loses the lease while its
     * part is on the way cannot overwrite the part of the one that took
     * the upload over (that stray part is never recorded, so never used). */
    if (!w->nocat) {
        int rc = db_upload_s3_number(w->cat, w->id, w->token, (int64_t)hc_now() + USTORE_LEASE_SECONDS);
        if (rc != DB_OK)
            return db_fail_rc(w, rc);
        w->renewed = hc_now();
    }
    w->number++;
    src = s3_mpu_put_part_buffer(w->cli, w->key, w->mpu_id, w->number, w->buf, w->len, etag);
    if (src != S3_OK) {
        log_s3(w->cli, "storing a part", w->id, src);
        return USTORE_STORE;
    }
    snprintf(item, sizeof(item), "%d:%s", w->number, etag);
    etags_append(w, item);
    w->parts++;
    w->base += (int64_t)w->len;
    w->len = 0;
    w->tail_stored = 0;
    w->tail_name[0] = '\0';
    return USTORE_OK;
}

/* Record what is stored (parts, tail) in the catalog, then let the tail
 * it replaced go. */
static enum ustore_rc record(struct ustore_w *w, int64_t expires_at)
{
    struct db_upload u;
    int rc;

    memset(&u, 0, sizeof(u));
    u.offset = w->base + (int64_t)w->tail_stored;
    u.s3_parts = w->parts;
    u.s3_etags = w->etags;
    u.s3_tail = (int64_t)w->tail_stored;
    hc_strlcpy(u.s3_tail_name, w->tail_name, sizeof(u.s3_tail_name));
    rc = w->nocat ? DB_OK : db_upload_s3_commit(w->cat, w->id, w->token, w->rec_offset, &u, expires_at);
    if (rc != DB_OK)
        return db_fail_rc(w, rc);
    if (w->rec_tail_name[0] && strcmp(w->rec_tail_name, w->tail_name)) {
        char tk[128];
        int src;

        tail_key(w->id, w->rec_tail_name, tk, sizeof(tk));
        if ((src = s3_delete(w->cli, tk)) != S3_OK)
            log_s3(w->cli, "deleting a tail it no longer needs", w->id, src);
    }
    w->rec_offset = u.offset;
    w->rec_parts = w->parts;
    w->rec_etags_len = w->etags_len;
    w->rec_tail = u.s3_tail;
    hc_strlcpy(w->rec_tail_name, w->tail_name, sizeof(w->rec_tail_name));
    return USTORE_OK;
}

enum ustore_rc ustore_write(struct ustore_w *w, const void *data, size_t len)
{
    const unsigned char *p = data;
    enum ustore_rc rc;

    if (w->dead)
        return USTORE_LOST;
    if ((rc = renew(w, 0)) != USTORE_OK)
        return rc;
    if (!w->buf && len > 0)
        w->buf = hc_malloc(USTORE_BUFFER);      /* only a request that sends bytes needs it */
    while (len > 0) {
        size_t n = USTORE_BUFFER - w->len < len ? USTORE_BUFFER - w->len : len;

        memcpy(w->buf + w->len, p, n);
        w->len += n;
        p += n;
        len -= n;
        if (w->len < USTORE_BUFFER)
            break;
        if ((rc = put_part(w)) != USTORE_OK ||
            (!w->defer && (rc = record(w, (int64_t)hc_now() + w->conf->upload_expiry)) != USTORE_OK))
            return rc;
    }
    return USTORE_OK;
}

enum ustore_rc ustore_settle(struct ustore_w *w, int final, int64_t expires_at)
{
    enum ustore_rc rc;

    if (w->dead)
        return USTORE_LOST;
    if (w->len > 0 && (final || w->len >= USTORE_PART_MIN)) {
        if ((rc = put_part(w)) != USTORE_OK)
            return rc;
    } else if (w->len > w->tail_stored) {
        /* A new tail, under a new name: the one recorded stays intact
         * until the catalog points at this one. */
        char name[32], tk[128];
        int src;

        if ((rc = renew(w, 1)) != USTORE_OK)
            return rc;
        ustore_token(name);
        tail_key(w->id, name, tk, sizeof(tk));
        if ((src = s3_put_buffer(w->cli, tk, w->buf, w->len, NULL)) != S3_OK) {
            log_s3(w->cli, "storing its tail", w->id, src);
            return USTORE_STORE;
        }
        w->tail_stored = w->len;
        hc_strlcpy(w->tail_name, name, sizeof(w->tail_name));
    }
    return record(w, expires_at);
}

void ustore_forget(struct ustore_w *w)
{
    w->dead = 1;
    w->parts = w->rec_parts;
    w->etags_len = w->rec_etags_len;
    if (w->etags)
        w->etags[w->etags_len] = '\0';
    w->base = w->rec_offset;
    w->len = 0;
    w->tail_stored = 0;
}

int64_t ustore_offset(const struct ustore_w *w)
{
    return w->dead ? w->rec_offset : w->base + (int64_t)w->len;
}

int64_t ustore_recorded(const struct ustore_w *w)
{
    return w->rec_offset;
}

size_t ustore_head(const struct ustore_w *w, unsigned char *head, size_t max)
{
    size_t n;

    if (w->base > 0 || w->dead)
        return 0;
    n = w->len < max ? w->len : max;
    memcpy(head, w->buf, n);
    return n;
}

enum ustore_rc ustore_complete(struct ustore_w *w)
{
    struct s3_part *parts = hc_calloc((size_t)w->rec_parts + 1, sizeof(*parts));
    const char *p = w->etags ? w->etags : "";
    size_t n = 0;
    int src;

    while (*p && n < (size_t)w->rec_parts) {
        const char *sp = strchr(p, ' '), *colon = strchr(p, ':');
        size_t l = sp ? (size_t)(sp - p) : strlen(p);
        int64_t num;
        char nbuf[16];

        if (!colon || colon >= p + l || (size_t)(colon - p) >= sizeof(nbuf) ||
            (size_t)(p + l - colon - 1) >= sizeof(parts[n].etag))
            break;
        memcpy(nbuf, p, (size_t)(colon - p));
        nbuf[colon - p] = '\0';
        if (hc_parse_i64(nbuf, n ? parts[n - 1].number + 1 : 1, MAX_PARTS, &num) < 0)
            break;
        parts[n].number = (int)num;
        memcpy(parts[n].etag, colon + 1, (size_t)(p + l - colon - 1));
        parts[n].etag[p + l - colon - 1] = '\0';
        n++;
        p = sp ? sp + 1 : p + l;
    }
    if (n != (size_t)w->rec_parts || n == 0) {
        hc_log("upload %s: its record names %zu of %d parts", w->id, n, w->rec_parts);
        free(parts);
        return USTORE_STORE;
    }
    src = s3_mpu_complete(w->cli, w->key, w->mpu_id, parts, n);
    free(parts);
    if (src == S3_NOTFOUND) {
        /* Completed already (by a request whose server died before the
         * catalog heard of it): fine when the object is all there. */
        struct s3_object o;
        if (s3_head(w->cli, w->key, &o) == S3_OK && o.size == w->rec_offset)
            return USTORE_OK;
    }
    if (src != S3_OK) {
        log_s3(w->cli, "completing its multipart upload", w->id, src);
        return USTORE_STORE;
    }
    return USTORE_OK;
}

int ustore_db_rc(const struct ustore_w *w)
{
    return w->db_rc ? w->db_rc : DB_ERROR;
}

void ustore_end(struct ustore_w **wp)
{
    struct ustore_w *w = *wp;

    if (!w)
        return;
    if (w->has_buffer) {
        pthread_mutex_lock(&buffers_lock);
        buffers--;
        pthread_mutex_unlock(&buffers_lock);
    }
    ustore_client_give(&w->cli);
    free(w->buf);
    free(w->etags);
    free(w);
    *wp = NULL;
}
