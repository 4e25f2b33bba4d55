/*
 * db_uploads.c - every SQL statement about tus uploads in progress, and
 * the transaction that turns a finished one into an update and a job.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_uploads.h"
#include "util.h"

void db_upload_free(struct db_upload *u)
{
    if (!u)
        return;
    free(u->metadata);
    free(u->description);
    free(u->s3_etags);
    u->metadata = u->description = u->s3_etags = NULL;
}

int db_upload_count_open(struct catalog *c, int64_t user_id, int64_t now, int64_t *n)
{
    return cat_get_int(c, n, "SELECT COUNT(*) FROM uploads WHERE user_id = ? AND update_id IS NULL "
                             "AND expires_at > ?", "II", user_id, now);
}

int db_upload_create(struct catalog *c, const struct db_upload *u)
{
    if (cat_exec(c, "INSERT INTO uploads(id, user_id, length, \"offset\", metadata, filename, filetype, "
                    "title, description, kind, created_at, expires_at, s3_upload_id) "
                    "VALUES (?, ?, NULLIF(?, -1), 0, ?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''))",
                 "sIIssssssIIs", u->id, u->user_id, u->length, u->metadata ? u->metadata : "", u->filename,
                 u->filetype, u->title, u->description ? u->description : "", u->kind,
                 u->created_at, u->expires_at, u->s3_upload_id) < 0)
        return cat_rc(c);
    return DB_OK;
}

int db_upload_get(struct catalog *c, const char *id, int64_t user_id, struct db_upload *out)
{
    struct cat_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    st = cat_query(c, "SELECT id, user_id, length, \"offset\", metadata, filename, filetype, title, description, "
                      "kind, update_id, created_at, expires_at, s3_upload_id, s3_parts, s3_etags, s3_tail, s3_tail_name, "
                      "s3_next_part "
                      "FROM uploads WHERE id = ? AND user_id = ?",
                   "sI", id, user_id);
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc == 0 ? DB_NOTFOUND : rc;
    cat_col_copy(st, 0, out->id, sizeof(out->id));
    out->user_id = cat_col_int(st, 1);
    out->length = cat_col_null(st, 2) ? -1 : cat_col_int(st, 2);
    out->offset = cat_col_int(st, 3);
    out->metadata = hc_strdup(cat_col_text(st, 4));
    cat_col_copy(st, 5, out->filename, sizeof(out->filename));
    cat_col_copy(st, 6, out->filetype, sizeof(out->filetype));
    cat_col_copy(st, 7, out->title, sizeof(out->title));
    out->description = hc_strdup(cat_col_text(st, 8));
    cat_col_copy(st, 9, out->kind, sizeof(out->kind));
    out->update_id = cat_col_null(st, 10) ? 0 : cat_col_int(st, 10);
    out->created_at = cat_col_int(st, 11);
    out->expires_at = cat_col_int(st, 12);
    cat_col_copy(st, 13, out->s3_upload_id, sizeof(out->s3_upload_id));
    out->s3_parts = (int)cat_col_int(st, 14);
    out->s3_etags = hc_strdup(cat_col_text(st, 15));
    out->s3_tail = cat_col_int(st, 16);
    cat_col_copy(st, 17, out->s3_tail_name, sizeof(out->s3_tail_name));
    out->s3_last_number = (int)cat_col_int(st, 18);
    cat_end(st);
    return DB_OK;
}

/* After an UPDATE that changed nothing: DB_NOTFOUND if the row is gone,
 * else DB_INVALID (it is in another state). */
static int why_unchanged(struct catalog *c, const char *id)
{
    int64_t n = 0;
    int rc = cat_get_int(c, &n, "SELECT COUNT(*) FROM uploads WHERE id = ?", "s", id);
    if (rc < 0)
        return rc;
    return n ? DB_INVALID : DB_NOTFOUND;
}

int db_upload_set_length(struct catalog *c, const char *id, int64_t length)
{
    int n = cat_exec(c, "UPDATE uploads SET length = ? WHERE id = ? AND length IS NULL AND update_id IS NULL",
                     "Is", length, id);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : why_unchanged(c, id);
}

int db_upload_advance(struct catalog *c, const char *id, int64_t from, int64_t to, int64_t expires_at)
{
    int n = cat_exec(c, "UPDATE uploads SET \"offset\" = ?, expires_at = ? WHERE id = ? AND \"offset\" = ? "
                        "AND update_id IS NULL", "IIsI", to, expires_at, id, from);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : why_unchanged(c, id);
}

int db_upload_delete(struct catalog *c, const char *id)
{
    int n = cat_exec(c, "DELETE FROM uploads WHERE id = ?", "s", id);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : DB_NOTFOUND;
}

/* The live update of unfinished upload id: 1 with *uid, 0 if none, or a
 * negative db_rc. */
static int live_update(struct catalog *c, const char *id, int64_t *uid)
{
    int rc = cat_get_int(c, uid, "SELECT id FROM updates WHERE upload_id = ? AND status = 'uploading'", "s", id);

    if (rc == DB_NOTFOUND)
        return 0;
    return rc < 0 ? rc : 1;
}

int db_upload_create_live(struct catalog *c, const struct db_upload *u, const struct db_update_new *in,
                          int64_t *update_id)
{
    int64_t uid;
    int rc;

    if ((rc = db_begin(c)) < 0)
        return rc;
    if ((rc = db_upload_create(c, u)) < 0 || (rc = db_update_insert_live(c, in, &uid)) < 0) {
        cat_rollback(c);
        return rc;
    }
    if ((rc = db_commit(c)) == DB_OK)
        *update_id = uid;
    return rc;
}

/* uploading -> queued for live update uid: published, its ladder job
 * queued, the answers sent with its creation stored. Inside the caller's transaction; DB_OK or a negative db_rc. */
static int publish_live(struct catalog *c, int64_t uid, const struct db_update_new *in)
{
    if (cat_exec(c, "UPDATE updates SET status = 'queued', published_at = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'uploading'", "III", in->now, in->now, uid) != 1 ||
        cat_insert(c, "INSERT INTO jobs(update_id, kind, input_path, priority, created_at, updated_at) "
                      "VALUES (?, 'ladder', ?, ?, ?, ?)", "IsiII", uid, in->input_path, in->priority,
                   in->now, in->now) < 0)
        return cat_rc(c) < 0 ? cat_rc(c) : DB_ERROR;
    return db_update_answers_add(c, uid, in->answers, in->nanswers);
}

int db_upload_finish(struct catalog *c, const char *id, int64_t offset, const struct db_update_new *in,
                     int64_t *update_id)
{
    int64_t uid = 0;
    int rc, n;

    if (cat_begin(c) < 0)
        return db_fail(c);
    if ((rc = live_update(c, id, &uid)) < 0 ||
        (rc = rc ? publish_live(c, uid, in) : db_update_insert_queued(c, in, &uid)) < 0) {
        cat_rollback(c);
        return rc;
    }
    n = cat_exec(c, "UPDATE uploads SET update_id = ?, \"offset\" = ? WHERE id = ? AND update_id IS NULL",
                 "IIs", uid, offset, id);
    if (n < 0)
        return db_fail(c);
    if (n == 0) {
        rc = why_unchanged(c, id);
        cat_rollback(c);
        return rc;
    }
    if ((rc = db_commit(c)) == DB_OK)
        *update_id = uid;
    return rc;
}

int db_upload_oneshot(struct catalog *c, const struct db_upload *u, const struct db_update_new *in,
                      int64_t *update_id)
{
    int64_t uid;
    int rc;

    if (cat_begin(c) < 0)
        return db_fail(c);
    if ((rc = db_update_insert_queued(c, in, &uid)) < 0) {
        cat_rollback(c);
        return rc;
    }
    if (cat_exec(c, "INSERT INTO uploads(id, user_id, length, \"offset\", kind, title, description, "
                    "update_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 "sIIIsssIII", u->id, u->user_id, u->length, u->offset, u->kind, u->title,
                 u->description ? u->description : "", uid, u->created_at, u->expires_at) < 0)
        return db_fail(c);
    if ((rc = db_commit(c)) == DB_OK)
        *update_id = uid;
    return rc;
}

int db_upload_terminate(struct catalog *c, const char *id, int64_t *update_id)
{
    int64_t uid = 0, finished = 0;
    int rc;

    *update_id = 0;
    if ((rc = db_begin(c)) < 0)
        return rc;
    rc = cat_get_int(c, &finished, "SELECT update_id IS NOT NULL FROM uploads WHERE id = ?", "s", id);
    if (rc != DB_OK || finished) {
        cat_rollback(c);
        return rc != DB_OK ? rc : DB_INVALID;
    }
    if ((rc = live_update(c, id, &uid)) < 0)
        return db_fail(c);
    if ((rc && cat_exec(c, "DELETE FROM updates WHERE id = ?", "I", uid) != 1) ||
        cat_exec(c, "DELETE FROM uploads WHERE id = ?", "s", id) != 1)
        return db_fail(c);
    if ((rc = db_commit(c)) == DB_OK)
        *update_id = uid;
    return rc;
}

int db_upload_expire(struct catalog *c, const char *id, const char *reason, int64_t now, int64_t *update_id)
{
    int64_t uid = 0, finished = 0;
    int rc;

    *update_id = 0;
    if ((rc = db_begin(c)) < 0)
        return rc;
    rc = cat_get_int(c, &finished, "SELECT update_id IS NOT NULL FROM uploads WHERE id = ?", "s", id);
    if (rc != DB_OK || finished) {
        cat_rollback(c);
        return rc != DB_OK ? rc : DB_INVALID;
    }
    if ((rc = live_update(c, id, &uid)) < 0)
        return db_fail(c);
    if (rc && (cat_exec(c, "UPDATE updates SET status = 'failed', error = ?, first_ready_at = NULL, "
                           "first_segments = 0, updated_at = ? WHERE id = ?", "sII", reason, now, uid) != 1 ||
               cat_exec(c, "UPDATE jobs SET state = 'failed', error = ?, worker = NULL, updated_at = ? "
                           "WHERE update_id = ? AND state IN ('queued', 'running')", "sII", reason, now, uid) < 0))
        return db_fail(c);
    if (cat_exec(c, "DELETE FROM uploads WHERE id = ?", "s", id) != 1)
        return db_fail(c);
    if ((rc = db_commit(c)) == DB_OK)
        *update_id = uid;
    return rc;
}

int db_upload_live_update(struct catalog *c, const char *id, int64_t *update_id)
{
    return cat_get_int(c, update_id, "SELECT id FROM updates WHERE upload_id = ? AND status = 'uploading'",
                       "s", id);
}

int db_upload_expired(struct catalog *c, int64_t now, char (**ids)[DB_UPLOAD_ID_SIZE], size_t *n)
{
    struct cat_stmt *st;
    size_t cap = 0;
    int rc;

    *ids = NULL;
    *n = 0;
    st = cat_query(c, "SELECT id FROM uploads WHERE update_id IS NULL AND expires_at < ? ORDER BY id", "I", now);
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *ids = hc_realloc(*ids, cap * sizeof(**ids));
        }
        cat_col_copy(st, 0, (*ids)[(*n)++], DB_UPLOAD_ID_SIZE);
    }
    if (rc < 0) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return rc;
    }
    return DB_OK;
}

/* ---- uploads kept in the S3 store ---- */

int db_upload_lease_take(struct catalog *c, const char *id, const char *token, int64_t now, int64_t until)
{
    int n = cat_exec(c, "UPDATE uploads SET lease_token = ?, lease_until = ? WHERE id = ? AND update_id IS NULL "
                        "AND (lease_token IS NULL OR lease_until <= ?)", "sIsI", token, until, id, now);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : why_unchanged(c, id);
}

int db_upload_lease_renew(struct catalog *c, const char *id, const char *token, int64_t until)
{
    int n = cat_exec(c, "UPDATE uploads SET lease_until = ? WHERE id = ? AND lease_token = ?", "Iss",
                     until, id, token);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : why_unchanged(c, id);
}

int db_upload_s3_number(struct catalog *c, const char *id, const char *token, int64_t until)
{
    int n = cat_exec(c, "UPDATE uploads SET lease_until = ?, s3_next_part = s3_next_part + 1 "
                        "WHERE id = ? AND lease_token = ?", "Iss", until, id, token);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : why_unchanged(c, id);
}

int db_upload_lease_release(struct catalog *c, const char *id, const char *token)
{
    if (cat_exec(c, "UPDATE uploads SET lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?",
                 "ss", id, token) < 0)
        return cat_rc(c);
    return DB_OK;
}

int db_upload_s3_commit(struct catalog *c, const char *id, const char *token, int64_t from,
                        const struct db_upload *u, int64_t expires_at)
{
    int n = cat_exec(c, "UPDATE uploads SET \"offset\" = ?, s3_parts = ?, s3_etags = ?, s3_tail = ?, "
                        "s3_tail_name = ?, expires_at = ? WHERE id = ? AND lease_token = ? AND \"offset\" = ? "
                        "AND update_id IS NULL", "IisIsIssI", u->offset, u->s3_parts,
                     u->s3_etags ? u->s3_etags : "", u->s3_tail, u->s3_tail_name, expires_at, id, token, from);
    if (n < 0)
        return cat_rc(c);
    return n ? DB_OK : why_unchanged(c, id);
}

int db_upload_s3_id(struct catalog *c, const char *id, char *out, size_t outsz)
{
    char *v = NULL;
    int rc = cat_get_text(c, &v, "SELECT COALESCE(s3_upload_id, '') FROM uploads WHERE id = ?", "s", id);

    if (rc == DB_OK)
        hc_strlcpy(out, v, outsz);
    free(v);
    return rc;
}

int db_upload_s3_known(struct catalog *c, const char *mpu_id)
{
    int64_t n = 0;
    int rc = cat_get_int(c, &n, "SELECT COUNT(*) FROM uploads WHERE s3_upload_id = ?", "s", mpu_id);

    if (rc < 0)
        return rc;
    return n ? DB_OK : DB_NOTFOUND;
}

/* ---- used by /metrics ---- */

int db_upload_count_all_open(struct catalog *c, int64_t *n)
{
    return cat_get_int(c, n, "SELECT COUNT(*) FROM uploads WHERE update_id IS NULL", "");
}
