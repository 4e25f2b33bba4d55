/*
 * db_outbox.c - every SQL statement about mail: the outbox and its state
 * machine (see db_outbox.h), and the reads of users, updates and comments
 * that messages are made of.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db_outbox.h"
#include "util.h"

/* The result of a statement that should change one row of the outbox:
 * DB_OK, or why not (no such row, or not in a state that allows it). */
static int one_row_moved(struct catalog *c, int changes, int64_t id)
{
    int64_t one;
    int rc;

    if (changes < 0)
        return cat_rc(c);
    if (changes > 0)
        return DB_OK;
    rc = cat_get_int(c, &one, "SELECT 1 FROM outbox WHERE id = ?", "I", id);
    return rc == DB_OK ? DB_INVALID : rc;
}

/* ------------------------------------------------------------------------
 * The outbox.
 */
int db_outbox_enqueue(struct catalog *c, const struct db_outbox_new *m, int64_t now, int64_t *id)
{
    int64_t rowid = cat_insert(c,
        "INSERT INTO outbox(kind, to_user, to_addr, to_name, subject, body_text, body_html, "
        "dedupe_key, unsubscribe, next_try, created_at) "
        "VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "sIssssssiII", m->kind, m->to_user, m->to_addr, m->to_name ? m->to_name : "", m->subject,
        m->body_text ? m->body_text : "", m->body_html ? m->body_html : "", m->dedupe_key,
        m->unsubscribe, now, now);

    if (rowid < 0)
        return cat_rc(c);
    if (id)
        *id = rowid;
    return DB_OK;
}

void db_outbox_msg_free(struct db_outbox_msg *m)
{
    free(m->body_text);
    free(m->body_html);
    m->body_text = m->body_html = NULL;
}

/* The first due row into out; 1 found, 0 none, negative db_rc. */
static int read_due(struct catalog *c, int64_t now, struct db_outbox_msg *out)
{
    struct cat_stmt *st = cat_query(c,
        "SELECT id, kind, to_user, to_addr, to_name, subject, body_text, body_html, dedupe_key, "
        "unsubscribe, attempts, created_at FROM outbox WHERE state = 'pending' AND claimed_at IS NULL "
        "AND next_try <= ? ORDER BY next_try, id LIMIT 1", "I", now);
    int rc;

    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc;
    out->id = cat_col_int(st, 0);
    cat_col_copy(st, 1, out->kind, sizeof(out->kind));
    out->to_user = cat_col_int(st, 2);
    cat_col_copy(st, 3, out->to_addr, sizeof(out->to_addr));
    cat_col_copy(st, 4, out->to_name, sizeof(out->to_name));
    cat_col_copy(st, 5, out->subject, sizeof(out->subject));
    out->body_text = hc_strdup(cat_col_text(st, 6));
    out->body_html = hc_strdup(cat_col_text(st, 7));
    cat_col_copy(st, 8, out->dedupe_key, sizeof(out->dedupe_key));
    out->unsubscribe = (int)cat_col_int(st, 9);
    out->attempts = (int)cat_col_int(st, 10) + 1;
    out->created_at = cat_col_int(st, 11);
    cat_end(st);
    return 1;
}

int db_outbox_claim(struct catalog *c, int64_t now, struct db_outbox_msg *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = db_begin(c)) < 0)
        return rc;
    if ((rc = read_due(c, now, out)) != 1) {
        db_rollback(c);
        return rc == 0 ? DB_NOTFOUND : rc;
    }
    if (cat_exec(c, "UPDATE outbox SET claimed_at = ?, attempts = attempts + 1 WHERE id = ?", "II",
                 now, out->id) != 1) {
        rc = cat_rc(c);
        db_rollback(c);
        db_outbox_msg_free(out);
        return rc < 0 ? rc : DB_ERROR;
    }
    if ((rc = db_commit(c)) < 0) {
        db_outbox_msg_free(out);
        return rc;
    }
    return DB_OK;
}

int db_outbox_sent(struct catalog *c, int64_t id, int64_t now)
{
    return one_row_moved(c, cat_exec(c,
        "UPDATE outbox SET state = 'sent', sent_at = ?, claimed_at = NULL, last_error = '' "
        "WHERE id = ? AND state = 'pending' AND claimed_at IS NOT NULL", "II", now, id), id);
}

int db_outbox_failed(struct catalog *c, int64_t id, const char *why)
{
    return one_row_moved(c, cat_exec(c,
        "UPDATE outbox SET state = 'failed', claimed_at = NULL, last_error = ? "
        "WHERE id = ? AND state = 'pending' AND claimed_at IS NOT NULL", "sI", why ? why : "", id), id);
}

int db_outbox_retry(struct catalog *c, int64_t id, int64_t next_try, const char *why)
{
    return one_row_moved(c, cat_exec(c,
        "UPDATE outbox SET claimed_at = NULL, next_try = ?, last_error = ? "
        "WHERE id = ? AND state = 'pending' AND claimed_at IS NOT NULL", "IsI",
        next_try, why ? why : "", id), id);
}

int db_outbox_unclaim(struct catalog *c, int64_t id)
{
    return one_row_moved(c, cat_exec(c,
        "UPDATE outbox SET claimed_at = NULL, attempts = MAX(attempts - 1, 0) "
        "WHERE id = ? AND state = 'pending' AND claimed_at IS NOT NULL", "I", id), id);
}

int db_outbox_release_claims(struct catalog *c, int *n)
{
    int changes = cat_exec(c, "UPDATE outbox SET claimed_at = NULL "
                              "WHERE state = 'pending' AND claimed_at IS NOT NULL", "");

    *n = 0;
    if (changes < 0)
        return cat_rc(c);
    *n = changes;
    return DB_OK;
}

int db_outbox_queued_at(struct catalog *c, const char *dedupe_key, int64_t *created_at)
{
    return cat_get_int(c, created_at, "SELECT created_at FROM outbox WHERE dedupe_key = ?", "s", dedupe_key);
}

int db_outbox_queued_many(struct catalog *c, const char *const *keys, size_t n, int64_t *created_at,
                          int *found)
{
    static const char *const sql[2] = {
        "SELECT j.i, o.created_at FROM " CAT_LIST_SQLITE("?") " j JOIN outbox o ON o.dedupe_key = j.v",
        "SELECT j.i, o.created_at FROM " CAT_LIST_PG("?") " j JOIN outbox o ON o.dedupe_key = j.v",
    };
    struct cat_stmt *st;
    int rc;

    memset(found, 0, n * sizeof(*found));
    memset(created_at, 0, n * sizeof(*created_at));
    if (!n)
        return DB_OK;
    st = cat_query_texts(c, sql, keys, n, "");
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        int64_t i = cat_col_int(st, 0);
        if (i >= 0 && (size_t)i < n) {
            found[i] = 1;
            created_at[i] = cat_col_int(st, 1);
        }
    }
    if (rc < 0) {
        memset(found, 0, n * sizeof(*found));
        memset(created_at, 0, n * sizeof(*created_at));
    }
    return rc < 0 ? rc : DB_OK;
}

int db_outbox_count_since(struct catalog *c, const char *kind, int64_t to_user, int64_t since,
                          int64_t *n)
{
    return cat_get_int(c, n, "SELECT COUNT(*) FROM outbox WHERE kind = ? AND to_user = ? AND created_at > ?",
                       "sII", kind, to_user, since);
}

static void fill_entry(struct cat_stmt *st, void *p)
{
    struct db_outbox_entry *e = p;

    e->id = cat_col_int(st, 0);
    cat_col_copy(st, 1, e->kind, sizeof(e->kind));
    cat_col_copy(st, 2, e->to_addr, sizeof(e->to_addr));
    cat_col_copy(st, 3, e->subject, sizeof(e->subject));
    cat_col_copy(st, 4, e->state, sizeof(e->state));
    e->attempts = (int)cat_col_int(st, 5);
    e->next_try = cat_col_int(st, 6);
    cat_col_copy(st, 7, e->last_error, sizeof(e->last_error));
    e->created_at = cat_col_int(st, 8);
    e->claimed_at = cat_col_null(st, 9) ? 0 : cat_col_int(st, 9);
}

int db_outbox_unsent(struct catalog *c, size_t limit, struct db_outbox_entry **out, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT id, kind, to_addr, subject, state, attempts, next_try, last_error, created_at, claimed_at "
        "FROM outbox WHERE state IN ('pending', 'failed') ORDER BY id DESC LIMIT ?", "I", (int64_t)limit),
        sizeof(**out), fill_entry, (void **)out, n);
}

int db_outbox_count(struct catalog *c, struct db_outbox_counts *out)
{
    struct cat_stmt *st = cat_query(c, "SELECT state, COUNT(*) FROM outbox GROUP BY state", "");
    int rc;

    memset(out, 0, sizeof(*out));
    if (!st)
        return cat_rc(c);
    while ((rc = cat_step(c, st)) == 1) {
        const char *state = cat_col_text(st, 0);
        int64_t k = cat_col_int(st, 1);
        if (!strcmp(state, "pending"))
            out->pending = k;
        else if (!strcmp(state, "sent"))
            out->sent = k;
        else if (!strcmp(state, "failed"))
            out->failed = k;
    }
    if (rc < 0)
        memset(out, 0, sizeof(*out));
    return rc < 0 ? rc : DB_OK;
}

/* ------------------------------------------------------------------------
 * People, updates and comments, as messages need them.
 */
#define PERSON_COLS "u.id, u.email, u.name, u.role, u.time_zone, u.notify_updates, " \
                    "u.notify_reminders, u.unsubscribed, u.deactivated, u.lang"

/* The PERSON_COLS starting at column i. */
static void fill_person_at(struct cat_stmt *st, int i, struct db_outbox_person *p)
{
    p->id = cat_col_int(st, i);
    cat_col_copy(st, i + 1, p->email, sizeof(p->email));
    cat_col_copy(st, i + 2, p->name, sizeof(p->name));
    cat_col_copy(st, i + 3, p->role, sizeof(p->role));
    cat_col_copy(st, i + 4, p->time_zone, sizeof(p->time_zone));
    cat_col_copy(st, i + 5, p->notify_updates, sizeof(p->notify_updates));
    p->notify_reminders = (int)cat_col_int(st, i + 6);
    p->unsubscribed = (int)cat_col_int(st, i + 7);
    p->deactivated = (int)cat_col_int(st, i + 8);
    cat_col_copy(st, i + 9, p->lang, sizeof(p->lang));
}

static void fill_person(struct cat_stmt *st, void *p)
{
    fill_person_at(st, 0, p);
}

/* One row of PERSON_COLS: DB_OK, DB_NOTFOUND or a negative db_rc. */
static int read_person(struct catalog *c, struct cat_stmt *st, struct db_outbox_person *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc == 0 ? DB_NOTFOUND : rc;
    fill_person(st, out);
    cat_end(st);
    return DB_OK;
}

int db_outbox_person(struct catalog *c, int64_t uid, struct db_outbox_person *out)
{
    return read_person(c, cat_query(c, "SELECT " PERSON_COLS " FROM users u WHERE u.id = ?", "I", uid), out);
}

int db_outbox_members(struct catalog *c, struct db_outbox_person **out, size_t *n)
{
    return cat_read_list(c, cat_query(c, "SELECT " PERSON_COLS " FROM users u "
                                         "WHERE u.deactivated = 0 AND u.unsubscribed = 0 ORDER BY u.id", ""),
                         sizeof(**out), fill_person, (void **)out, n);
}

int db_outbox_person_by_email(struct catalog *c, const char *email, struct db_outbox_person *out)
{
    return read_person(c, cat_query(c, "SELECT " PERSON_COLS " FROM users u "
                                       "WHERE u.email = ? AND u.deactivated = 0", "s", email), out);
}

int db_outbox_unsubscribe(struct catalog *c, int64_t uid)
{
    int changes = cat_exec(c, "UPDATE users SET unsubscribed = 1 WHERE id = ?", "I", uid);

    if (changes < 0)
        return cat_rc(c);
    return changes ? DB_OK : DB_NOTFOUND;
}

int db_outbox_update_notice(struct catalog *c, int64_t update_id, struct db_outbox_update *out)
{
    struct cat_stmt *st = cat_query(c,
        "SELECT u.id, u.kind = 'allhands', u.title, u.iso_week, u.author_id, a.name "
        "FROM updates u JOIN users a ON a.id = u.author_id WHERE u.id = ?", "I", update_id);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc == 0 ? DB_NOTFOUND : rc;
    out->id = cat_col_int(st, 0);
    out->allhands = (int)cat_col_int(st, 1);
    cat_col_copy(st, 2, out->title, sizeof(out->title));
    cat_col_copy(st, 3, out->iso_week, sizeof(out->iso_week));
    out->author_id = cat_col_int(st, 4);
    cat_col_copy(st, 5, out->author, sizeof(out->author));
    cat_end(st);
    return DB_OK;
}

int db_outbox_update_recipients(struct catalog *c, int64_t author_id, int allhands,
                                struct db_outbox_person **out, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT " PERSON_COLS " FROM users u WHERE u.deactivated = 0 AND u.unsubscribed = 0 "
        "AND (? <> 0 OR u.notify_updates = 'immediate') AND u.id != ? ORDER BY u.id", "iI",
        allhands ? 1 : 0, author_id), sizeof(**out), fill_person, (void **)out, n);
}

int db_outbox_comment_notice(struct catalog *c, int64_t comment_id, struct db_outbox_comment *out)
{
    struct cat_stmt *st = cat_query(c,
        "SELECT c.id, c.update_id, c.user_id, w.name, p.title, c.body, " PERSON_COLS " "
        "FROM comments c JOIN users w ON w.id = c.user_id JOIN updates p ON p.id = c.update_id "
        "JOIN users u ON u.id = p.author_id WHERE c.id = ?", "I", comment_id);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!st)
        return cat_rc(c);
    if ((rc = cat_step(c, st)) != 1)
        return rc == 0 ? DB_NOTFOUND : rc;
    out->id = cat_col_int(st, 0);
    out->update_id = cat_col_int(st, 1);
    out->commenter_id = cat_col_int(st, 2);
    cat_col_copy(st, 3, out->commenter, sizeof(out->commenter));
    cat_col_copy(st, 4, out->title, sizeof(out->title));
    out->body = hc_strdup(cat_col_text(st, 5));
    fill_person_at(st, 6, &out->author);
    cat_end(st);
    return DB_OK;
}

void db_outbox_comment_free(struct db_outbox_comment *cm)
{
    free(cm->body);
    cm->body = NULL;
}

static void fill_item(struct cat_stmt *st, void *p)
{
    struct db_outbox_digest_item *it = p;

    it->update_id = cat_col_int(st, 0);
    it->allhands = (int)cat_col_int(st, 1);
    cat_col_copy(st, 2, it->title, sizeof(it->title));
    cat_col_copy(st, 3, it->author, sizeof(it->author));
    it->author_id = cat_col_int(st, 4);
}

int db_outbox_digest_week(struct catalog *c, const char *week,
                          struct db_outbox_digest_item **out, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT p.id, p.kind = 'allhands', p.title, a.name, p.author_id FROM updates p "
        "JOIN users a ON a.id = p.author_id WHERE p.iso_week = ? AND p.status = 'ready' "
        "ORDER BY p.kind = 'allhands' DESC, " CAT_ORDER_NOCASE("a.name") ", p.id", "s", week),
        sizeof(**out), fill_item, (void **)out, n);
}

int db_outbox_digest_daily(struct catalog *c, int64_t reader, int64_t from, int64_t to,
                           struct db_outbox_digest_item **out, size_t *n)
{
    return cat_read_list(c, cat_query(c,
        "SELECT p.id, 0, p.title, a.name, p.author_id FROM updates p "
        "JOIN users a ON a.id = p.author_id WHERE p.kind = 'weekly' AND p.status = 'ready' "
        "AND p.author_id != ? AND p.ready_at >= ? AND p.ready_at < ? "
        "ORDER BY " CAT_ORDER_NOCASE("a.name") ", p.id", "III", reader, from, to),
        sizeof(**out), fill_item, (void **)out, n);
}
