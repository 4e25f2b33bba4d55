/*
 * uploads.c - tus 1.0.0 at /api/uploads (creation, creation-with-upload,
 * creation-defer-length, termination, expiration, checksum) and the
 * one-request POST /api/updates. Bytes go straight from the socket to
 * DATA/uploads/<id>.part with pwrite; the catalog's offset only moves over
 * bytes that fdatasync has put on disk. With an S3 media store, a tus
 * upload's bytes go to the store instead (upload_store.c), so its requests
 * may land on any server. The first bytes are sniffed before anything is
 * accepted.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <sodium.h>

#include "api.h"
#include "conf.h"
#include "db_updates.h"
#include "db_uploads.h"
#include "http.h"
#include "isoweek.h"
#include "layout.h"
#include "metrics.h"
#include "sniff.h"
#include "store.h"
#include "updates.h"
#include "upload_store.h"
#include "uploads.h"
#include "util.h"
#include "wake.h"
#include "worker.h"

#define TUS_VERSION "1.0.0"
#define ID_CHARS    DB_UPLOAD_ID_SIZE

/* ---- uploads being written: one request at a time per upload ---- */

static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static char busy[256][ID_CHARS];

static int busy_take(const char *id)
{
    int free_slot = -1, ok = 0;

    pthread_mutex_lock(&busy_lock);
    for (int i = 0; i < 256; i++) {
        if (!strcmp(busy[i], id))
            goto out;
        if (free_slot < 0 && !busy[i][0])
            free_slot = i;
    }
    if (free_slot >= 0) {
        hc_strlcpy(busy[free_slot], id, ID_CHARS);
        ok = 1;
    }
out:
    pthread_mutex_unlock(&busy_lock);
    return ok;
}

static void busy_release(const char *id)
{
    pthread_mutex_lock(&busy_lock);
    for (int i = 0; i < 256; i++)
        if (!strcmp(busy[i], id))
            busy[i][0] = '\0';
    pthread_mutex_unlock(&busy_lock);
}

/*
 * With the S3 store, the requests of one upload may reach different
 * servers: one at a time holds its lease in the catalog instead (it lapses
 * USTORE_LEASE_SECONDS after its holder stops pushing it on, so a server
 * killed mid-request does not keep the upload). 0 when taken, else the
 * status of the error set.
 */
static int lease_take(struct req *r, const char *id, char token[32])
{
    int64_t now = (int64_t)hc_now();
    int rc;

    ustore_token(token);
    rc = db_upload_lease_take(r->cat, id, token, now, now + USTORE_LEASE_SECONDS);
    if (rc == DB_OK)
        return 0;
    token[0] = '\0';
    if (rc == DB_INVALID)
        return http_stream_fail(r, 423, "locked", "this upload is already receiving data in another request");
    if (rc == DB_NOTFOUND)
        return http_stream_fail(r, 404, "not_found", "there is no such upload");
    hc_log("catalog: %s while taking an upload's lease", db_rc_name(rc));
    return http_stream_fail(r, 503, "catalog_unavailable",
                            "the server cannot reach its catalog right now; try again in a moment");
}

static void lease_release(struct req *r, const char *id, char token[32])
{
    int rc;

    if (!token[0])
        return;
    if (r->cat && (rc = db_upload_lease_release(r->cat, id, token)) != DB_OK)
        hc_log("upload %s: releasing its lease: %s (it lapses by itself)", id, db_rc_name(rc));
    token[0] = '\0';
}

/* ---- per-request state ---- */

enum { CK_NONE, CK_SHA1, CK_SHA256 };

struct up {
    int      fd;
    char     id[ID_CHARS];
    char     path[LAYOUT_PATH_MAX];
    int      locked;             /* busy_take, or the lease below */
    char     lease[32];          /* S3 store: our lease token on the upload */
    char     mpu[256];           /* S3 store, one-request upload: its multipart upload */
    struct ustore_w *store;      /* S3 store: this request's buffer and parts */
    int      oneshot;            /* POST /api/updates */
    int      kept;               /* the bytes became an update */
    int      creating;           /* POST /api/uploads */
    int64_t  start;              /* offset at the start of this request */
    int64_t  written;            /* bytes written by this request */
    int64_t  length;             /* -1 while deferred */
    int64_t  limit;              /* no byte may land at or past this */
    unsigned char head[SNIFF_BYTES];
    size_t   head_len;
    int      sniffed;
    int      ck;
    struct sha1_ctx   sha1;
    struct sha256_ctx sha256;
    unsigned char ck_expect[SHA256_DIGEST_SIZE];
    size_t   ck_len;
    /* one-request upload */
    char     kind[16];
    char    *title, *description;
};

static void lock_release(struct req *r, struct up *u);
static void store_discard(struct req *r, const char *id, const char *mpu);

static void up_free(struct req *r)
{
    struct up *u = r->state;

    if (!u)
        return;
    if (u->store) {
        if (!u->oneshot && !r->handled && u->written > 0 && r->cat) {
            /* The client went away mid-PATCH: store and keep what came,
             * unless a checksum was promised for the whole chunk. */
            if (u->ck != CK_NONE || (u->start == 0 && !u->sniffed)) {
                ustore_forget(u->store);
            } else {
                enum ustore_rc rc = ustore_settle(u->store, 0, (int64_t)hc_now() + r->conf->upload_expiry);
                if (rc != USTORE_OK)
                    hc_log("upload %s: keeping the bytes of an interrupted request: error %d", u->id, (int)rc);
            }
        }
        ustore_end(&u->store);
    }
    if (u->oneshot && !u->kept && u->mpu[0])
        store_discard(r, u->id, u->mpu);      /* nothing was promised */
    if (u->fd >= 0) {
        if (u->oneshot && !u->kept) {
            /* Nothing was promised: drop the bytes. */
            unlink(u->path);
        } else if (!u->oneshot && !r->handled && u->written > 0) {
            /* The client went away mid-PATCH: keep what reached the disk,
             * unless a checksum was promised for the whole chunk. */
            if (u->ck != CK_NONE || fdatasync(u->fd) < 0 || (u->start == 0 && !u->sniffed)) {
                if (ftruncate(u->fd, u->start) < 0)
                    hc_log("upload %s: truncate: %s", u->id, strerror(errno));
            } else if (r->cat) {
                int rc = db_upload_advance(r->cat, u->id, u->start, u->start + u->written,
                                           (int64_t)hc_now() + r->conf->upload_expiry);
                if (rc == DB_OK)
                    wake_workers(WORKER_WAKE_FIRST);
                if (rc != DB_OK) {
                    /* Not recorded: the bytes past the stored offset go. */
                    hc_log("upload %s: keeping the bytes of an interrupted request: %s", u->id, db_rc_name(rc));
                    if (ftruncate(u->fd, u->start) < 0)
                        hc_log("upload %s: truncate: %s", u->id, strerror(errno));
                }
            }
        }
        close(u->fd);
    }
    if (u->locked)
        lock_release(r, u);
    free(u->title);
    free(u->description);
    free(u);
    r->state = NULL;
}

/* Let the next request in before this one's answer goes out: a client
 * that sends its next PATCH (or DELETE) the moment it reads the answer
 * must not find the upload still taken by a request that is done. */
static void up_unlock(struct req *r, struct up *u)
{
    ustore_end(&u->store);
    if (u->locked)
        lock_release(r, u);
}

static void lock_release(struct req *r, struct up *u)
{
    if (u->lease[0])
        lease_release(r, u->id, u->lease);
    else
        busy_release(u->id);
    u->locked = 0;
}

static struct up *up_new(struct req *r)
{
    struct up *u = hc_calloc(1, sizeof(*u));
    u->fd = -1;
    u->length = -1;
    r->state = u;
    r->state_free = up_free;
    return u;
}

static void upload_path(const struct conf *c, const char *id, char *out, size_t outsz)
{
    layout_upload_part(c->data_dir, id, out, outsz);
}

/* A catalog failure while streaming: 507 for a full disk, 503 otherwise. */
static int stream_db_fail(struct req *r, int rc, const char *doing)
{
    hc_log("catalog: %s while %s", db_rc_name(rc), doing);
    if (rc == DB_FULL)
        return http_stream_fail(r, 507, "storage_full", "the server's disk is full, so nothing can be saved "
                                "right now; try again later (an administrator has to free space)");
    return http_stream_fail(r, 503, "catalog_unavailable",
                            "the server cannot reach its catalog right now; try again in a moment");
}

/* The server's disk refused bytes: 507 for a full disk (or file too large), else 500. */
static int stream_disk_fail(struct req *r, int err, const char *doing)
{
    hc_log("upload: %s: %s", doing, strerror(err));
    if (err == ENOSPC || err == EFBIG || err == EDQUOT)
        return http_stream_fail(r, 507, "storage_full", "the server's disk is full, so the upload cannot be "
                                "stored right now; try again later");
    return http_stream_fail(r, 500, "storage", "the server could not store the upload (%s)", strerror(err));
}

/* The S3 store refused or could not: the status of the error set. */
static int stream_store_fail(struct req *r, struct up *u, enum ustore_rc rc)
{
    switch (rc) {
    case USTORE_OK:
        return 0;
    case USTORE_LOST:
        return http_stream_fail(r, 409, "offset_mismatch", "the upload moved on in another request; "
                                "ask with HEAD and resume from there");
    case USTORE_GONE:
        return http_stream_fail(r, 404, "not_found", "there is no such upload");
    case USTORE_CATALOG:
        return stream_db_fail(r, u && u->store ? ustore_db_rc(u->store) : DB_ERROR, "saving the upload's progress");
    case USTORE_TOO_LARGE:
        return http_stream_fail(r, 413, "too_large", "the upload has more parts than the media store takes; "
                                "send larger chunks");
    case USTORE_BUSY:
        return http_stream_fail(r, 503, "busy", "the server is receiving too many uploads right now; "
                                "try again in a moment");
    case USTORE_STORE:
        break;
    }
    return http_stream_fail(r, 503, "store_unavailable",
                            "the server cannot reach its media store right now; try again in a moment");
}

static int valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= ID_CHARS)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

static void http_date(time_t t, char *out, size_t outsz)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outsz, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void tus_headers(struct resp *o)
{
    http_header(o, "Tus-Resumable", TUS_VERSION);
    http_header(o, "Cache-Control", "no-store");
}

/* ---- metadata ---- */

json_t *tus_parse_metadata(const char *h, const char **why)
{
    json_t *m = json_object();
    const char *p = h;

    *why = NULL;
    while (p && *p) {
        char key[64], *val;
        size_t klen, vlen, blen = 0;
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        const char *sp;

        while (*p == ' ')
            p++;
        sp = memchr(p, ' ', (size_t)(end - p));
        klen = (size_t)((sp ? sp : end) - p);
        if (klen == 0 || klen >= sizeof(key))
            goto bad;
        memcpy(key, p, klen);
        key[klen] = '\0';
        for (size_t i = 0; i < klen; i++)
            if ((unsigned char)key[i] <= ' ' || key[i] == ',')
                goto bad;
        if (json_object_get(m, key))
            goto bad;
        /* The header itself is capped (the connection's memory limit), so
         * is every value: at most 3 bytes for each 4 of base64. */
        vlen = sp ? (size_t)(end - (sp + 1)) : 0;
        val = hc_malloc(vlen / 4 * 3 + 4);
        val[0] = '\0';
        if (vlen && sodium_base642bin((unsigned char *)val, vlen / 4 * 3 + 3, sp + 1, vlen, NULL, &blen,
                                      NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
            free(val);
            goto bad;
        }
        val[blen] = '\0';
        if (strlen(val) != blen) {      /* embedded NUL */
            free(val);
            goto bad;
        }
        {
            json_t *s = json_string(val);
            free(val);
            if (!s) {
                *why = "Upload-Metadata values must be UTF-8 text";
                json_decref(m);
                return NULL;
            }
            json_object_set_new(m, key, s);
        }
        p = comma ? comma + 1 : NULL;
    }
    return m;
bad:
    *why = "the Upload-Metadata header is malformed (expected `key base64value` pairs separated by commas)";
    json_decref(m);
    return NULL;
}

/* Validate title/description/kind, from tus metadata or query arguments. */
static int check_fields(struct req *r, const char *title, const char *description,
                        const char *kind, const char *filename)
{
    if (title && !api_text_ok(title, 200))
        return http_stream_fail(r, 400, "bad_field", "the title must be text of at most 200 bytes");
    if (description && !api_text_ok(description, 5000))
        return http_stream_fail(r, 400, "bad_field", "the description must be text of at most 5000 bytes");
    if (filename && !api_text_ok(filename, 255))
        return http_stream_fail(r, 400, "bad_field", "the file name must be text of at most 255 bytes");
    if (kind && strcmp(kind, "weekly") && strcmp(kind, "allhands"))
        return http_stream_fail(r, 400, "bad_field", "kind must be weekly or allhands");
    if (kind && !strcmp(kind, "allhands") && r->user.role != ROLE_ADMIN)
        return http_stream_fail(r, 403, "forbidden", "only administrators can post an all-hands update");
    return 0;
}

/*
 * The check-in answers of tus metadata (`answers`: a JSON list of {prompt,
 * text}, as PATCH /api/updates/{id} takes them), NULL for none: 0 with
 * out[0..*n) filled (empty answers left out), else -1 (with the 400
 * bad_answers answered when r is given).
 */
static int meta_answers(struct req *r, const char *text, struct db_answer *out, size_t *n)
{
    json_t *arr;
    int bad;

    *n = 0;
    if (!text)
        return 0;
    arr = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    bad = !arr || updates_answers_parse(arr, out, n) < 0;
    json_decref(arr);
    if (bad && r)
        return http_stream_fail(r, 400, "bad_answers",
                                "answers must be a JSON list of at most %d {prompt, text}: a prompt of 1 to "
                                "200 bytes and a text of at most 1000", UPDATES_MAX_ANSWERS);
    return bad ? -1 : 0;
}

static int check_open_uploads(struct req *r)
{
    int64_t open = 0;
    int rc = db_upload_count_open(r->cat, r->user.id, (int64_t)hc_now(), &open);

    if (rc < 0)
        return stream_db_fail(r, rc, "counting unfinished uploads");
    if (open >= r->conf->max_open_uploads)
        return http_stream_fail(r, 429, "too_many_uploads",
                                "you already have %lld unfinished uploads; finish or cancel one first",
                                (long long)open);
    return 0;
}

static int create_file(struct req *r, struct up *u)
{
    char rnd[32];

    for (int tries = 0; tries < 5; tries++) {
        hc_random_token(rnd, sizeof(rnd), 16);
        hc_strlcpy(u->id, rnd, sizeof(u->id));
        upload_path(r->conf, u->id, u->path, sizeof(u->path));
        u->fd = open(u->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (u->fd >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    return stream_disk_fail(r, errno == EEXIST ? EIO : errno, "creating the upload's file");
}

/* An unfinished upload's multipart upload and tails go (what a failure
 * leaves, the scheduler's sweep aborts). */
static void store_discard(struct req *r, const char *id, const char *mpu)
{
    struct s3_client *cli = ustore_client(r->conf);

    if (cli)
        ustore_discard(cli, id, mpu);
    ustore_client_give(&cli);
}

/* A new upload in the S3 store: its id and its multipart upload. */
static int create_in_store(struct req *r, struct up *u, char *mpu, size_t mpusz)
{
    struct s3_client *cli = ustore_client(r->conf);
    char rnd[32];
    int rc;

    if (!cli)
        return stream_store_fail(r, u, USTORE_STORE);
    hc_random_token(rnd, sizeof(rnd), 16);
    hc_strlcpy(u->id, rnd, sizeof(u->id));
    upload_path(r->conf, u->id, u->path, sizeof(u->path));     /* named, never made */
    rc = ustore_create(cli, u->id, mpu, mpusz);
    ustore_client_give(&cli);
    return rc == 0 ? 0 : stream_store_fail(r, u, USTORE_STORE);
}

/*
 * This request writes upload row in the S3 store: take its lease (423
 * while another request holds it), then its buffer (the tail comes back
 * into it). 0, or the status of the error set.
 */
static int store_begin(struct req *r, struct up *u, const struct db_upload *row)
{
    enum ustore_rc rc;

    if (lease_take(r, u->id, u->lease) < 0)
        return -1;
    u->locked = 1;
    rc = ustore_begin(r->conf, r->cat, row, u->lease, u->ck != CK_NONE, &u->store);
    return rc == USTORE_OK ? 0 : stream_store_fail(r, u, rc);
}

/* ---- writing bytes ---- */

static int sniff_now(struct req *r, struct up *u, int final)
{
    const char *why;
    enum sniff_result s;

    if (u->sniffed)
        return 0;
    s = sniff_media(u->head, u->head_len, final, &why);
    if (s == SNIFF_NEED_MORE)
        return 0;
    if (s == SNIFF_REFUSED)
        return http_stream_fail(r, 415, "not_a_video", "%s", why);
    u->sniffed = 1;
    return 0;
}

static int write_bytes_(struct req *r, struct up *u, const char *data, size_t len);

/*
 * A refused request leaves nothing behind, before it answers: a one-request
 * upload's file goes, a tus upload's file is cut back to the offset the
 * catalog holds (so a refused PATCH does not keep the disk full).
 */
static void refuse_bytes(struct up *u)
{
    if (u->store) {
        ustore_forget(u->store);
        u->start = ustore_recorded(u->store);
        u->written = 0;
        return;
    }
    if (u->fd < 0)
        return;
    if (u->oneshot) {
        unlink(u->path);
        close(u->fd);
        u->fd = -1;
        return;
    }
    if (ftruncate(u->fd, u->start) < 0)
        hc_log("upload %s: truncate: %s", u->id, strerror(errno));
    u->written = 0;
}

static int write_bytes(struct req *r, struct up *u, const char *data, size_t len)
{
    if (write_bytes_(r, u, data, len) == 0)
        return 0;
    refuse_bytes(u);
    return -1;
}

static int write_bytes_(struct req *r, struct up *u, const char *data, size_t len)
{
    int64_t at = u->start + u->written;

    if (at + (int64_t)len > u->limit) {
        if (u->length >= 0 && u->limit == u->length)
            return http_stream_fail(r, 400, "too_long", "more bytes were sent than the upload's declared length");
        return http_stream_fail(r, 413, "too_large", "the upload is larger than the %lld MB limit",
                                (long long)(r->conf->max_upload / (1024 * 1024)));
    }
    if (at < SNIFF_BYTES) {
        size_t n = (size_t)(SNIFF_BYTES - at) < len ? (size_t)(SNIFF_BYTES - at) : len;
        if ((size_t)at == u->head_len) {
            memcpy(u->head + at, data, n);
            u->head_len += n;
        }
        if (sniff_now(r, u, 0) < 0)
            return -1;
    }
    if (u->ck == CK_SHA1)
        sha1_update(&u->sha1, len, (const uint8_t *)data);
    else if (u->ck == CK_SHA256)
        sha256_update(&u->sha256, len, (const uint8_t *)data);
    if (u->store) {
        enum ustore_rc rc = ustore_write(u->store, data, len);
        if (rc != USTORE_OK)
            return stream_store_fail(r, u, rc);
        u->written += (int64_t)len;
        metrics_upload_bytes((long long)len);
        return 0;
    }
    while (len > 0) {
        ssize_t w = pwrite(u->fd, data, len, at);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return stream_disk_fail(r, errno, "writing the upload");
        }
        data += w;
        len -= (size_t)w;
        at += w;
        u->written += w;
        metrics_upload_bytes(w);
    }
    return 0;
}

/* The head of a resumed upload is stored already: read it for sniffing
 * (from the disk, or from the store's tail, taken back into the buffer). */
static void load_head(struct up *u)
{
    if (u->start > 0) {
        size_t want = u->start < SNIFF_BYTES ? (size_t)u->start : SNIFF_BYTES;
        ssize_t n = u->store ? (ssize_t)ustore_head(u->store, u->head, want) : pread(u->fd, u->head, want, 0);
        u->head_len = n > 0 ? (size_t)n : 0;
        u->sniffed = u->start >= SNIFF_BYTES;
        if (!u->sniffed) {
            const char *why;
            u->sniffed = sniff_media(u->head, u->head_len, 0, &why) == SNIFF_MEDIA;
        }
    }
}

/* ---- finishing ---- */

/* The update a finished upload becomes, of now in the uploader's week. */
static void new_update(struct req *r, const char *kind, const char *title, const char *desc,
                       const char *input_path, char week[16], struct db_update_new *in)
{
    int64_t now = (int64_t)hc_now();

    if (hc_iso_week((time_t)now, r->user.time_zone[0] ? r->user.time_zone : "UTC", week, 16) < 0)
        hc_iso_week((time_t)now, "UTC", week, 16);
    memset(in, 0, sizeof(*in));
    in->author_id = r->user.id;
    in->kind = kind;
    in->iso_week = week;
    in->title = title;
    in->description = desc;
    in->input_path = input_path;
    in->priority = !strcmp(kind, "allhands") ? JOB_PRIO_ALLHANDS : JOB_PRIO_WEEKLY;
    in->now = now;
}

static const char *title_or_default(const char *title, const char *filename, char *buf, size_t bufsz)
{
    if (title && *title)
        return title;
    if (filename && *filename) {
        char *dot;
        hc_strlcpy(buf, filename, bufsz);
        if ((dot = strrchr(buf, '.')) && dot != buf)
            *dot = '\0';
        return buf;
    }
    return "Weekly update";
}

/* Nothing of a refused upload is kept: its record, then its bytes. */
static void drop_upload(struct req *r, struct up *u)
{
    char mpu[256] = "";
    int rc, s3 = ustore_enabled(r->conf) == 1;

    if (s3 && (rc = db_upload_s3_id(r->cat, u->id, mpu, sizeof(mpu))) < 0)
        hc_log("upload %s: reading its multipart upload: %s", u->id, db_rc_name(rc));
    if ((rc = db_upload_delete(r->cat, u->id)) < 0)
        hc_log("upload %s: removing its record: %s", u->id, db_rc_name(rc));
    if (s3)
        store_discard(r, u->id, mpu);
    else
        unlink(u->path);
}

/* A tus upload reached its length: it becomes an update and a job. */
static int finish_upload(struct req *r, struct up *u, int64_t *update_id)
{
    struct db_upload row;
    struct db_update_new in;
    struct db_answer answers[UPDATES_MAX_ANSWERS];
    size_t nanswers = 0;
    char tbuf[256], week[16];
    int64_t id = 0;
    int rc;

    if (sniff_now(r, u, 1) < 0 || !u->sniffed) {
        if (!r->stream_status)
            http_stream_fail(r, 415, "not_a_video", "this file is not a video Hubcast can read");
        /* Refused: the upload is gone, nothing of it is kept. */
        drop_upload(r, u);
        return -1;
    }
    rc = db_upload_get(r->cat, u->id, r->user.id, &row);
    if (rc == DB_NOTFOUND)
        return http_stream_fail(r, 404, "not_found", "there is no such upload");
    if (rc < 0)
        return stream_db_fail(r, rc, "reading the upload");
    new_update(r, row.kind, title_or_default(row.title, row.filename, tbuf, sizeof(tbuf)), row.description,
               u->path, week, &in);
    /* The answers sent with the creation (checked then) go with the update. */
    {
        const char *why;
        json_t *meta = tus_parse_metadata(row.metadata ? row.metadata : "", &why);
        if (meta && meta_answers(NULL, json_string_value(json_object_get(meta, "answers")), answers, &nanswers) < 0)
            hc_log("upload %s: its answers no longer read as answers; the update has none", u->id);
        json_decref(meta);
        in.answers = answers;
        in.nanswers = nanswers;
    }
    in.first = r->conf->first_playable;
    if (u->store) {
        /* The parts become the object uploads/<id>, where workers read it
         * (a live upload's first job starts only now). */
        enum ustore_rc src = ustore_complete(u->store);
        if (src != USTORE_OK) {
            db_upload_free(&row);
            return stream_store_fail(r, u, src);
        }
    }   /* else local disk: the bytes are DATA/uploads/<id>.part */
    rc = db_upload_finish(r->cat, u->id, u->start + u->written, &in, &id);
    db_upload_free(&row);
    if (rc == DB_INVALID)
        return http_stream_fail(r, 409, "complete", "this upload is already complete");
    if (rc == DB_NOTFOUND)
        return http_stream_fail(r, 404, "not_found", "there is no such upload");
    if (rc < 0)
        return stream_db_fail(r, rc, "turning the upload into an update");
    metrics_upload_done();
    wake_workers(WORKER_WAKE_ALL);
    *update_id = id;
    return 0;
}

/* Flush this request's bytes and move the stored offset over them. */
static int commit_bytes(struct req *r, struct up *u)
{
    int rc;

    if (u->ck != CK_NONE) {
        unsigned char got[SHA256_DIGEST_SIZE];
        if (u->ck == CK_SHA1)
            sha1_digest(&u->sha1, SHA1_DIGEST_SIZE, got);
        else
            sha256_digest(&u->sha256, SHA256_DIGEST_SIZE, got);
        if (sodium_memcmp(got, u->ck_expect, u->ck_len) != 0) {
            if (u->store)
                refuse_bytes(u);
            else if (ftruncate(u->fd, u->start) < 0)
                hc_log("upload %s: truncate: %s", u->id, strerror(errno));
            u->written = 0;
            return http_stream_fail(r, 460, "checksum_mismatch",
                                    "the chunk's checksum does not match; it was discarded, send it again");
        }
    }
    if (u->store) {
        /* Store what is buffered (the last part when the upload is
         * complete, else a part or the tail), then record it. */
        int final = u->length >= 0 && u->start + u->written == u->length;
        enum ustore_rc src = ustore_settle(u->store, final, (int64_t)hc_now() + r->conf->upload_expiry);
        if (src != USTORE_OK) {
            refuse_bytes(u);
            return stream_store_fail(r, u, src);
        }
        return 0;
    }
    if (u->written > 0 && fdatasync(u->fd) < 0) {
        int err = errno;
        refuse_bytes(u);
        return stream_disk_fail(r, err, "flushing the upload");
    }
    rc = db_upload_advance(r->cat, u->id, u->start, u->start + u->written,
                           (int64_t)hc_now() + r->conf->upload_expiry);
    if (rc != DB_OK) {
        /* The catalog still says u->start: so do the bytes on disk. */
        refuse_bytes(u);
        if (rc == DB_INVALID)
            return http_stream_fail(r, 409, "offset_mismatch", "the upload moved on in another request; "
                                    "ask with HEAD and resume from there");
        if (rc == DB_NOTFOUND)
            return http_stream_fail(r, 404, "not_found", "there is no such upload");
        return stream_db_fail(r, rc, "saving the upload's progress");
    }
    if (u->written > 0)
        wake_workers(WORKER_WAKE_FIRST);     /* a first pass may follow it */
    return 0;
}

/* ---- tus: OPTIONS ---- */

static int h_options(struct req *r, struct resp *o)
{
    char max[32];

    (void)r;
    snprintf(max, sizeof(max), "%lld", (long long)r->conf->max_upload);
    http_header(o, "Tus-Resumable", TUS_VERSION);
    http_header(o, "Tus-Version", TUS_VERSION);
    http_header(o, "Tus-Extension", "creation,creation-with-upload,creation-defer-length,termination,expiration,checksum");
    http_header(o, "Tus-Max-Size", max);
    http_header(o, "Tus-Checksum-Algorithm", "sha1,sha256");
    o->status = 204;
    return 204;
}

static int check_tus_version(struct req *r)
{
    const char *v = http_get_header(r, "Tus-Resumable");
    if (!v || strcmp(v, TUS_VERSION))
        return http_stream_fail(r, 412, "tus_version", "this server speaks tus " TUS_VERSION
                                " (send the header Tus-Resumable: " TUS_VERSION ")");
    return 0;
}

static int parse_checksum(struct req *r, struct up *u)
{
    const char *h = http_get_header(r, "Upload-Checksum");
    const char *sp;
    size_t n = 0, want;

    if (!h)
        return 0;
    sp = strchr(h, ' ');
    if (!sp)
        return http_stream_fail(r, 400, "bad_checksum", "Upload-Checksum must be `algorithm base64digest`");
    if ((size_t)(sp - h) == 4 && !strncasecmp(h, "sha1", 4)) {
        u->ck = CK_SHA1;
        want = SHA1_DIGEST_SIZE;
        sha1_init(&u->sha1);
    } else if ((size_t)(sp - h) == 6 && !strncasecmp(h, "sha256", 6)) {
        u->ck = CK_SHA256;
        want = SHA256_DIGEST_SIZE;
        sha256_init(&u->sha256);
    } else {
        return http_stream_fail(r, 400, "bad_checksum", "checksum algorithm not supported (use sha1 or sha256)");
    }
    if (sodium_base642bin(u->ck_expect, sizeof(u->ck_expect), sp + 1, strlen(sp + 1), NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || n != want)
        return http_stream_fail(r, 400, "bad_checksum", "the Upload-Checksum digest is not valid base64 of the right length");
    u->ck_len = n;
    return 0;
}

static int parse_length(struct req *r, const char *h, int64_t *out)
{
    if (hc_parse_i64(h, 0, INT64_MAX, out) < 0)
        return http_stream_fail(r, 400, "bad_length", "Upload-Length must be a non-negative whole number");
    if (*out > r->conf->max_upload)
        return http_stream_fail(r, 413, "too_large", "the upload is larger than the %lld MB limit",
                                (long long)(r->conf->max_upload / (1024 * 1024)));
    return 0;
}

static int content_type_is_offset(struct req *r)
{
    const char *ct = http_get_header(r, "Content-Type");
    return ct && !strncasecmp(ct, "application/offset+octet-stream", 31);
}

/* ---- tus: POST (creation, creation-with-upload) ---- */

static int body_create(struct req *r, const char *data, size_t len)
{
    struct up *u = r->state;

    if (data)
        return write_bytes(r, u, data, len);

    {
        const char *hl = http_get_header(r, "Upload-Length");
        const char *hd = http_get_header(r, "Upload-Defer-Length");
        const char *hm = http_get_header(r, "Upload-Metadata");
        const char *why, *cl = http_get_header(r, "Content-Length");
        const char *filename, *filetype, *title, *desc, *kind;
        struct db_answer answers[UPDATES_MAX_ANSWERS];
        size_t nanswers;
        json_t *meta;
        int64_t length = -1, body = 0;
        char mpu[256] = "";
        int s3;

        if (check_tus_version(r) < 0)
            return -1;
        if ((s3 = ustore_enabled(r->conf)) < 0)
            return stream_store_fail(r, u, USTORE_STORE);
        if (hl && hd)
            return http_stream_fail(r, 400, "bad_length", "send Upload-Length or Upload-Defer-Length, not both");
        if (hl) {
            if (parse_length(r, hl, &length) < 0)
                return -1;
        } else if (!hd || strcmp(hd, "1")) {
            return http_stream_fail(r, 400, "bad_length", "Upload-Length (or Upload-Defer-Length: 1) is required");
        }
        if (cl && hc_parse_i64(cl, 0, INT64_MAX, &body) == 0 && body > 0 && !content_type_is_offset(r))
            return http_stream_fail(r, 415, "bad_content_type",
                                    "data sent with the creation must be application/offset+octet-stream");
        meta = tus_parse_metadata(hm ? hm : "", &why);
        if (!meta)
            return http_stream_fail(r, 400, "bad_metadata", "%s", why);
        filename = json_string_value(json_object_get(meta, "filename"));
        filetype = json_string_value(json_object_get(meta, "filetype"));
        title = json_string_value(json_object_get(meta, "title"));
        desc = json_string_value(json_object_get(meta, "description"));
        kind = json_string_value(json_object_get(meta, "kind"));
        if (check_fields(r, title, desc, kind, filename) < 0 ||
            (filetype && !api_text_ok(filetype, 100) && http_stream_fail(r, 400, "bad_field", "filetype is too long") < 0) ||
            meta_answers(r, json_string_value(json_object_get(meta, "answers")), answers, &nanswers) < 0 ||
            check_open_uploads(r) < 0) {
            json_decref(meta);
            return -1;
        }
        u = up_new(r);
        u->creating = 1;
        u->length = length;
        u->limit = length >= 0 ? length : r->conf->max_upload;
        if (parse_checksum(r, u) < 0 || (s3 ? create_in_store(r, u, mpu, sizeof(mpu)) : create_file(r, u)) < 0) {
            json_decref(meta);
            return -1;
        }
        {
            struct db_upload row = { .user_id = r->user.id, .length = length, .metadata = (char *)(hm ? hm : ""),
                                     .description = (char *)(desc ? desc : ""),
                                     .created_at = (int64_t)hc_now(),
                                     .expires_at = (int64_t)hc_now() + r->conf->upload_expiry };
            int rc;

            hc_strlcpy(row.id, u->id, sizeof(row.id));
            hc_strlcpy(row.filename, filename ? filename : "", sizeof(row.filename));
            hc_strlcpy(row.filetype, filetype ? filetype : "", sizeof(row.filetype));
            hc_strlcpy(row.title, title ? title : "", sizeof(row.title));
            hc_strlcpy(row.kind, kind ? kind : "weekly", sizeof(row.kind));
            hc_strlcpy(row.s3_upload_id, mpu, sizeof(row.s3_upload_id));
            if (length < 0 && r->conf->first_playable) {
                /* Recorded live: transcoded as it arrives, seen by others
                 * once it ends. (In the S3 store, its first job waits for
                 * the upload to complete: it cannot follow an object that
                 * is still growing there.) */
                struct db_update_new in;
                char tbuf[256], week[16];
                int64_t uid = 0;

                new_update(r, row.kind, title_or_default(row.title, row.filename, tbuf, sizeof(tbuf)),
                           row.description, u->path, week, &in);
                in.upload_id = row.id;
                rc = db_upload_create_live(r->cat, &row, &in, &uid);
                if (rc == DB_OK)
                    wake_workers(WORKER_WAKE_FIRST);
            } else {
                rc = db_upload_create(r->cat, &row);
            }
            json_decref(meta);
            if (rc < 0) {
                if (s3) {
                    store_discard(r, u->id, mpu);
                } else {
                    unlink(u->path);
                    close(u->fd);
                    u->fd = -1;
                }
                return stream_db_fail(r, rc, "creating the upload");
            }
            if (s3)
                return store_begin(r, u, &row);
        }
        busy_take(u->id);
        u->locked = 1;
        return 0;
    }
}

static void offset_headers(struct resp *o, struct up *u, struct req *r)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "%lld", (long long)(u->start + u->written));
    http_header(o, "Upload-Offset", buf);
    http_date(hc_now() + r->conf->upload_expiry, buf, sizeof(buf));
    http_header(o, "Upload-Expires", buf);
}

static int h_create(struct req *r, struct resp *o)
{
    struct up *u = r->state;
    char loc[128];
    int64_t update_id = 0;

    tus_headers(o);
    if (u->written > 0 && commit_bytes(r, u) < 0)
        goto fail;
    if (u->length >= 0 && u->start + u->written == u->length && finish_upload(r, u, &update_id) < 0)
        goto fail;
    snprintf(loc, sizeof(loc), "/api/uploads/%s", u->id);
    http_header(o, "Location", loc);
    offset_headers(o, u, r);
    up_unlock(r, u);
    o->status = 201;
    return 201;
fail:
    if (r->stream_status == 415 || r->stream_status == 460) {
        /* Nothing usable was created. */
        drop_upload(r, u);
    }
    return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_msg);
}

/* ---- tus: HEAD / GET ---- */

/* This person's upload id: 0 with *row (free with db_upload_free), else
 * the status of the error set with http_stream_fail (someone else's upload
 * is indistinguishable from a missing one). */
static int load_upload(struct req *r, const char *id, struct db_upload *row)
{
    int rc;

    memset(row, 0, sizeof(*row));
    if (!valid_id(id))
        return http_stream_fail(r, 404, "not_found", "there is no such upload");
    rc = db_upload_get(r->cat, id, r->user.id, row);
    if (rc == DB_NOTFOUND)
        return http_stream_fail(r, 404, "not_found", "there is no such upload");
    if (rc < 0)
        return stream_db_fail(r, rc, "reading the upload");
    return 0;
}

/* The JSON of an upload (without its raw metadata header). */
static json_t *upload_json(const struct db_upload *u)
{
    return json_pack("{s:s,s:o,s:I,s:s,s:s,s:s,s:o,s:I,s:I}", "id", u->id,
                     "length", u->length >= 0 ? json_integer(u->length) : json_null(),
                     "offset", (json_int_t)u->offset, "filename", u->filename, "title", u->title,
                     "kind", u->kind, "update_id", u->update_id ? json_integer(u->update_id) : json_null(),
                     "created_at", (json_int_t)u->created_at, "expires_at", (json_int_t)u->expires_at);
}

static int h_head(struct req *r, struct resp *o)
{
    struct db_upload row;
    char buf[64];
    int head = !strcmp(r->method, "HEAD");
    json_t *update = NULL;

    if (head)
        tus_headers(o);
    if (load_upload(r, r->match.params[0], &row) < 0)
        return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_msg);
    if (!row.update_id && row.expires_at < hc_now()) {
        db_upload_free(&row);
        return http_error(o, 410, "expired", "this upload expired; start it again");
    }
    if (head) {
        snprintf(buf, sizeof(buf), "%lld", (long long)row.offset);
        http_header(o, "Upload-Offset", buf);
        if (row.length < 0) {
            http_header(o, "Upload-Defer-Length", "1");
        } else {
            snprintf(buf, sizeof(buf), "%lld", (long long)row.length);
            http_header(o, "Upload-Length", buf);
        }
        if (*row.metadata)
            http_header(o, "Upload-Metadata", row.metadata);
        http_date((time_t)row.expires_at, buf, sizeof(buf));
        http_header(o, "Upload-Expires", buf);
        db_upload_free(&row);
        o->status = 200;
        return 200;
    }
    {
        struct db_viewer v;
        int64_t uid = row.update_id;
        int rc = DB_OK;

        /* A live upload already is an update (uploading, its author's). */
        if (!uid && (rc = db_upload_live_update(r->cat, row.id, &uid)) == DB_NOTFOUND) {
            uid = 0;
            rc = DB_OK;
        }
        updates_viewer(r, &v);
        if (rc == DB_OK && uid)
            rc = updates_get_json(r->cat, &v, uid, &update);
        if (rc < 0) {
            db_upload_free(&row);
            return api_db_fail(o, rc, "reading the upload's update");
        }
    }
    {
        json_t *j = upload_json(&row);
        db_upload_free(&row);
        return http_json(o, 200, json_pack("{s:o,s:o}", "upload", j, "update", update ? update : json_null()));
    }
}

/* ---- tus: PATCH ---- */

/* PATCH into the S3 store: under the lease, the row read again (another
 * server may have moved it since) must still be at offset `stored`. */
static int patch_store(struct req *r, struct up *u, int64_t stored)
{
    struct db_upload row;
    int rc;

    if (lease_take(r, u->id, u->lease) < 0)
        return -1;
    u->locked = 1;
    if ((rc = db_upload_get(r->cat, u->id, r->user.id, &row)) != DB_OK) {
        if (rc == DB_NOTFOUND)
            return http_stream_fail(r, 404, "not_found", "there is no such upload");
        return stream_db_fail(r, rc, "reading the upload");
    }
    if (row.offset != stored || row.update_id || !row.s3_upload_id[0]) {
        int64_t at = row.offset;
        int done = row.update_id != 0, local = !row.s3_upload_id[0];
        db_upload_free(&row);
        if (local)
            return http_stream_fail(r, 404, "not_found", "the upload's data is gone; start it again");
        if (done)
            return http_stream_fail(r, 409, "complete", "this upload is already complete");
        return http_stream_fail(r, 409, "offset_mismatch",
                                "the upload is at byte %lld, not %lld; ask with HEAD and resume from there",
                                (long long)at, (long long)stored);
    }
    u->start = stored;
    u->limit = u->length >= 0 ? u->length : r->conf->max_upload;
    upload_path(r->conf, u->id, u->path, sizeof(u->path));     /* named, never made */
    rc = ustore_begin(r->conf, r->cat, &row, u->lease, u->ck != CK_NONE, &u->store);
    db_upload_free(&row);
    if (rc != USTORE_OK)
        return stream_store_fail(r, u, (enum ustore_rc)rc);
    load_head(u);
    return 0;
}

static int body_patch(struct req *r, const char *data, size_t len)
{
    struct up *u = r->state;
    struct db_upload row;
    const char *ho, *hl;
    int64_t offset, stored;
    int rc;

    if (data)
        return write_bytes(r, u, data, len);
    if (check_tus_version(r) < 0)
        return -1;
    if (!content_type_is_offset(r))
        return http_stream_fail(r, 415, "bad_content_type", "PATCH bodies must be application/offset+octet-stream");
    if (load_upload(r, r->match.params[0], &row) < 0)
        return -1;
    if (row.update_id) {
        db_upload_free(&row);
        return http_stream_fail(r, 409, "complete", "this upload is already complete");
    }
    if (row.expires_at < hc_now()) {
        db_upload_free(&row);
        return http_stream_fail(r, 410, "expired", "this upload expired; start it again");
    }
    stored = row.offset;
    u = up_new(r);
    hc_strlcpy(u->id, row.id, sizeof(u->id));
    u->length = row.length;
    db_upload_free(&row);
    ho = http_get_header(r, "Upload-Offset");
    if (!ho || hc_parse_i64(ho, 0, INT64_MAX, &offset) < 0)
        return http_stream_fail(r, 400, "bad_offset", "Upload-Offset is required");
    if (offset != stored)
        return http_stream_fail(r, 409, "offset_mismatch",
                                "the upload is at byte %lld, not %lld; ask with HEAD and resume from there",
                                (long long)stored, (long long)offset);
    hl = http_get_header(r, "Upload-Length");
    if (hl) {
        int64_t total;
        if (parse_length(r, hl, &total) < 0)
            return -1;
        if (u->length >= 0 && total != u->length)
            return http_stream_fail(r, 400, "bad_length", "Upload-Length cannot change");
        if (total < stored)
            return http_stream_fail(r, 400, "bad_length", "Upload-Length is smaller than what was already sent");
        if (u->length < 0 && (rc = db_upload_set_length(r->cat, u->id, total)) != DB_OK) {
            if (rc == DB_INVALID)
                return http_stream_fail(r, 409, "offset_mismatch", "the upload changed in another request; "
                                        "ask with HEAD and resume from there");
            if (rc == DB_NOTFOUND)
                return http_stream_fail(r, 404, "not_found", "there is no such upload");
            return stream_db_fail(r, rc, "recording the upload's length");
        }
        u->length = total;
    }
    if (parse_checksum(r, u) < 0)
        return -1;
    if ((rc = ustore_enabled(r->conf)) < 0)
        return stream_store_fail(r, u, USTORE_STORE);
    if (rc == 1)
        return patch_store(r, u, stored);
    if (!busy_take(u->id))
        return http_stream_fail(r, 423, "locked", "this upload is already receiving data in another request");
    u->locked = 1;
    u->start = stored;
    u->limit = u->length >= 0 ? u->length : r->conf->max_upload;
    upload_path(r->conf, u->id, u->path, sizeof(u->path));
    u->fd = open(u->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (u->fd < 0)
        return http_stream_fail(r, 404, "not_found", "the upload's data is gone; start it again");
    /* Bytes past the stored offset (a crash mid-request) are not ours to keep. */
    if (ftruncate(u->fd, stored) < 0)
        return stream_disk_fail(r, errno, "preparing the upload");
    load_head(u);
    return 0;
}

static int h_patch(struct req *r, struct resp *o)
{
    struct up *u = r->state;
    int64_t update_id = 0;

    tus_headers(o);
    if (commit_bytes(r, u) < 0)
        return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_msg);
    if (u->length >= 0 && u->start + u->written == u->length &&
        finish_upload(r, u, &update_id) < 0)
        return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_msg);
    offset_headers(o, u, r);
    up_unlock(r, u);
    o->status = 204;
    return 204;
}

/* ---- tus: DELETE (termination) ---- */

/* DELETE of an upload kept in the S3 store: as below, under its lease;
 * its multipart upload is aborted and its tail deleted. Frees row. */
static int delete_store(struct req *r, struct resp *o, struct db_upload *row)
{
    char token[32] = "";
    int rc;

    if (row->update_id) {
        /* Finished: the object is its update's now; only the record goes. */
        rc = db_upload_delete(r->cat, row->id);
    } else if (lease_take(r, row->id, token) < 0) {
        db_upload_free(row);
        return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_status == 423 ?
                          "this upload is receiving data; try again when it stops" : r->stream_msg);
    } else {
        int64_t live = 0;
        rc = db_upload_terminate(r->cat, row->id, &live);
        if (rc == DB_OK) {
            store_discard(r, row->id, row->s3_upload_id);
        }
        lease_release(r, row->id, token);
    }
    db_upload_free(row);
    if (rc < 0)
        return api_db_fail(o, rc, "deleting the upload");
    o->status = 204;
    return 204;
}

static int h_delete(struct req *r, struct resp *o)
{
    struct db_upload row;
    char path[LAYOUT_PATH_MAX];
    int rc;

    tus_headers(o);
    if (load_upload(r, r->match.params[0], &row) < 0)
        return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_msg);
    if (row.s3_upload_id[0])
        return delete_store(r, o, &row);
    if (!busy_take(row.id)) {
        db_upload_free(&row);
        return http_error(o, 423, "locked", "this upload is receiving data; try again when it stops");
    }
    /* The record goes first: bytes without a record are swept, a record
     * without bytes would promise what is gone. A finished upload's bytes
     * belong to its update now; only the record goes. An unfinished one
     * takes its live update (a retake) and that update's first rendition
     * with it. */
    if (row.update_id) {
        rc = db_upload_delete(r->cat, row.id);
    } else {
        int64_t live = 0;
        rc = db_upload_terminate(r->cat, row.id, &live);
        if (rc == DB_OK) {
            upload_path(r->conf, row.id, path, sizeof(path));
            unlink(path);
            if (live && layout_update_media(r->conf->data_dir, live, path, sizeof(path)) == 0)
                hc_rmtree(path);
        }
    }
    busy_release(row.id);
    db_upload_free(&row);
    if (rc < 0)
        return api_db_fail(o, rc, "deleting the upload");
    o->status = 204;
    return 204;
}

/* ---- POST /api/updates: the whole file as the body ---- */

static int body_oneshot(struct req *r, const char *data, size_t len)
{
    struct up *u = r->state;
    const char *cl, *title, *desc, *kind;
    int64_t n;

    if (data)
        return write_bytes(r, u, data, len);
    cl = http_get_header(r, "Content-Length");
    if (cl && (hc_parse_i64(cl, 0, INT64_MAX, &n) < 0 || n > r->conf->max_upload))
        return http_stream_fail(r, 413, "too_large", "the upload is larger than the %lld MB limit",
                                (long long)(r->conf->max_upload / (1024 * 1024)));
    title = http_get_arg(r, "title");
    desc = http_get_arg(r, "description");
    kind = http_get_arg(r, "kind");
    if (check_fields(r, title, desc, kind, NULL) < 0 || check_open_uploads(r) < 0)
        return -1;
    u = up_new(r);
    u->oneshot = 1;
    u->limit = r->conf->max_upload;
    hc_strlcpy(u->kind, kind ? kind : "weekly", sizeof(u->kind));
    u->title = hc_strdup(title && *title ? title : "Weekly update");
    u->description = hc_strdup(desc ? desc : "");
    switch (ustore_enabled(r->conf)) {
    case 0:
        return create_file(r, u);
    case 1: {
        /* Into the store too: parts as the bytes come, no row until the end. */
        struct db_upload row;
        enum ustore_rc rc;

        if (create_in_store(r, u, u->mpu, sizeof(u->mpu)) < 0)
            return -1;
        memset(&row, 0, sizeof(row));
        hc_strlcpy(row.id, u->id, sizeof(row.id));
        hc_strlcpy(row.s3_upload_id, u->mpu, sizeof(row.s3_upload_id));
        rc = ustore_begin(r->conf, r->cat, &row, NULL, 0, &u->store);
        return rc == USTORE_OK ? 0 : stream_store_fail(r, u, rc);
    }
    default:
        return stream_store_fail(r, u, USTORE_STORE);
    }
}

static int h_oneshot(struct req *r, struct resp *o)
{
    struct up *u = r->state;
    int64_t id = 0, now = (int64_t)hc_now();
    struct db_upload row = { .user_id = r->user.id, .length = u->written, .offset = u->written,
                             .description = u->description, .created_at = now, .expires_at = now };
    struct db_update_new in;
    struct db_viewer v;
    char week[16];
    json_t *j = NULL;
    int rc;

    if (u->written == 0 || sniff_now(r, u, 1) < 0 || !u->sniffed) {
        if (!u->store)
            unlink(u->path);
        if (u->written == 0)
            return http_error(o, 400, "empty", "the request body is empty: send the video file as the body");
        return http_error(o, 415, "not_a_video", "%s", r->stream_msg[0] ? r->stream_msg :
                          "this file is not a video Hubcast can read");
    }
    if (u->store) {
        /* The buffer is the last part; the parts become uploads/<id>. */
        enum ustore_rc src = ustore_settle(u->store, 1, now);
        if (src == USTORE_OK)
            src = ustore_complete(u->store);
        if (src != USTORE_OK) {
            stream_store_fail(r, u, src);
            return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_msg);
        }
    } else if (fdatasync(u->fd) < 0) {
        stream_disk_fail(r, errno, "flushing the upload");
        return http_error(o, r->stream_status, r->stream_code, "%s", r->stream_msg);
    }
    hc_strlcpy(row.id, u->id, sizeof(row.id));
    hc_strlcpy(row.kind, u->kind, sizeof(row.kind));
    hc_strlcpy(row.title, u->title, sizeof(row.title));
    new_update(r, u->kind, u->title, u->description, u->path, week, &in);
    in.first = r->conf->first_playable;
    if ((rc = db_upload_oneshot(r->cat, &row, &in, &id)) < 0)
        return api_db_fail(o, rc, "turning the upload into an update");
    u->kept = 1;
    wake_workers(WORKER_WAKE_ALL);
    metrics_upload_done();
    updates_viewer(r, &v);
    if ((rc = updates_get_json(r->cat, &v, id, &j)) < 0)
        hc_log("upload %s: reading update %lld back: %s", u->id, (long long)id, db_rc_name(rc));
    {
        char loc[64];
        snprintf(loc, sizeof(loc), "/api/updates/%lld", (long long)id);
        http_header(o, "Location", loc);
    }
    return http_json(o, 201, json_pack("{s:o}", "update", j ? j : json_null()));
}

const struct route upload_routes[] = {
    { "OPTIONS", "/api/uploads",      h_options, ROLE_ANON,   0, NULL },
    { "OPTIONS", "/api/uploads/{id}", h_options, ROLE_ANON,   0, NULL },
    { "POST",    "/api/uploads",      h_create,  ROLE_MEMBER, RF_STREAM, body_create },
    { "GET",     "/api/uploads/{id}", h_head,    ROLE_MEMBER, 0, NULL },
    { "PATCH",   "/api/uploads/{id}", h_patch,   ROLE_MEMBER, RF_STREAM, body_patch },
    { "DELETE",  "/api/uploads/{id}", h_delete,  ROLE_MEMBER, 0, NULL },
    { "POST",    "/api/updates",      h_oneshot, ROLE_MEMBER, RF_STREAM, body_oneshot },
};
const size_t upload_nroutes = HC_ARRAY_LEN(upload_routes);
