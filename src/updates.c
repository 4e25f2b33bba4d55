/*
 * updates.c - handlers for /api/updates, /api/weeks, views, comments and
 * reactions. Optional filters are bound as NULL into fixed SQL
 * ("?1 IS NULL OR column = ?1"), never spliced into it.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "catalog.h"
#include "conf.h"
#include "db_updates.h"
#include "http.h"
#include "isoweek.h"
#include "mail.h"
#include "media.h"
#include "updates.h"
#include "util.h"

static void move_prefixed(json_t *from, json_t *to, const char *prefix)
{
    const char *k;
    json_t *v;
    void *tmp;
    size_t plen = strlen(prefix);

    json_object_foreach_safe(from, tmp, k, v) {
        if (!strncmp(k, prefix, plen)) {
            json_object_set(to, k + plen, v);
            json_object_del(from, k);
        }
    }
}

json_t *updates_json(struct catalog *c, const struct conf *conf, int64_t id, int64_t viewer)
{
    json_t *u, *author, *rend, *view;
    char url[300], nonce[DB_NONCE_SIZE];
    const char *status;

    (void)conf;
    u = cat_row(c,
        "SELECT u.id, u.kind, u.iso_week, u.title, u.description, u.status, u.error, u.duration, "
        "u.width, u.height, u.created_at, u.ready_at, "
        "a.id AS author_id, a.name AS author_name, a.email AS author_email, "
        "a.title AS author_title, a.team AS author_team, "
        "j.progress AS progress, j.eta AS eta, "
        "(SELECT COUNT(*) FROM views v WHERE v.update_id = u.id) AS views_count, "
        "(SELECT COUNT(*) FROM comments m WHERE m.update_id = u.id) AS comments_count "
        "FROM updates u JOIN users a ON a.id = u.author_id "
        "LEFT JOIN jobs j ON j.id = (SELECT MAX(id) FROM jobs WHERE update_id = u.id) "
        "WHERE u.id = ?", "I", id);
    if (!u)
        return NULL;
    author = json_object();
    move_prefixed(u, author, "author_");
    json_object_set_new(u, "author", author);
    status = json_string_value(json_object_get(u, "status"));
    if (!strcmp(status, "ready")) {
        json_object_set_new(u, "progress", json_integer(100));
        json_object_set_new(u, "eta", json_null());
    } else if (!strcmp(status, "processing")) {
        double p = json_number_value(json_object_get(u, "progress"));
        json_t *eta = json_object_get(u, "eta");
        json_object_set_new(u, "progress", json_integer((json_int_t)floor(p)));
        if (!json_is_number(eta) || json_number_value(eta) < 0)
            json_object_set_new(u, "eta", json_null());
        else
            json_object_set_new(u, "eta", json_integer((json_int_t)ceil(json_number_value(eta))));
    } else {
        json_object_set_new(u, "progress", json_integer(0));
        json_object_set_new(u, "eta", json_null());
    }
    rend = cat_rows(c, "SELECT name, width, height, bandwidth FROM renditions WHERE update_id = ? "
                       "ORDER BY height DESC", "I", id);
    json_object_set_new(u, "renditions", rend ? rend : json_array());
    if (!strcmp(status, "ready") && db_update_nonce(c, id, nonce) == DB_OK) {
        media_url(id, nonce, "master.m3u8", url, sizeof(url));
        json_object_set_new(u, "playback_url", json_string(url));
        media_url(id, nonce, "poster.jpg", url, sizeof(url));
        json_object_set_new(u, "poster_url", json_string(url));
        media_url(id, nonce, "storyboard.vtt", url, sizeof(url));
        json_object_set_new(u, "storyboard_url", json_string(url));
    } else {
        json_object_set_new(u, "playback_url", json_null());
        json_object_set_new(u, "poster_url", json_null());
        json_object_set_new(u, "storyboard_url", json_null());
    }
    view = cat_row(c, "SELECT position, completed FROM views WHERE update_id = ? AND user_id = ?",
                   "II", id, viewer);
    if (view)
        json_object_set_new(view, "completed", json_boolean(json_integer_value(json_object_get(view, "completed"))));
    json_object_set_new(u, "viewed", view ? view : json_null());
    return u;
}

/* Load the update for a handler: 404 if missing. */
static json_t *get_update(struct req *r, struct resp *o, int64_t *id)
{
    json_t *u;

    if (api_parse_id(r->match.params[0], id) < 0 ||
        !(u = updates_json(r->cat, r->conf, *id, r->user.id))) {
        http_error(o, 404, "not_found", "there is no such update");
        return NULL;
    }
    return u;
}

static int can_edit(struct req *r, json_t *u)
{
    return !strcmp(r->user.role, "admin") ||
           json_integer_value(json_object_get(json_object_get(u, "author"), "id")) == r->user.id;
}

static int current_week(struct req *r, char *out, size_t outsz)
{
    return hc_iso_week(hc_now(), r->user.time_zone[0] ? r->user.time_zone : "UTC", out, outsz);
}

/* ---- list, get, edit, delete ---- */

static json_t *build_list(struct req *r, json_t *ids)
{
    json_t *list = json_array(), *row;
    size_t i;

    json_array_foreach(ids, i, row) {
        json_t *u = updates_json(r->cat, r->conf, json_integer_value(json_object_get(row, "id")), r->user.id);
        if (u)
            json_array_append_new(list, u);
    }
    return list;
}

static int h_list(struct req *r, struct resp *o)
{
    const char *week = http_get_arg(r, "week"), *author = http_get_arg(r, "author");
    const char *kind = http_get_arg(r, "kind"), *status = http_get_arg(r, "status");
    const char *ls = http_get_arg(r, "limit"), *os = http_get_arg(r, "offset");
    char wbuf[16], viewer[32];
    long limit = 50, offset = 0;
    int64_t aid;
    json_t *ids, *total;

    if (week && !strcmp(week, "current")) {
        current_week(r, wbuf, sizeof(wbuf));
        week = wbuf;
    }
    if (week && hc_iso_week_parse(week, NULL, NULL) < 0)
        return http_error(o, 400, "bad_week", "week must look like 2026-W48");
    if (author && api_parse_id(author, &aid) < 0)
        return http_error(o, 400, "bad_author", "author must be a person's id");
    if (kind && strcmp(kind, "weekly") && strcmp(kind, "allhands"))
        return http_error(o, 400, "bad_kind", "kind must be weekly or allhands");
    if (status && strcmp(status, "queued") && strcmp(status, "processing") && strcmp(status, "ready") &&
        strcmp(status, "failed") && strcmp(status, "uploading"))
        return http_error(o, 400, "bad_status", "status must be uploading, queued, processing, ready or failed");
    if ((ls && hc_parse_long(ls, 1, 200, &limit) < 0) || (os && hc_parse_long(os, 0, 1000000, &offset) < 0))
        return http_error(o, 400, "bad_page", "limit must be 1 to 200 and offset 0 or more");
    snprintf(viewer, sizeof(viewer), "%lld", (long long)r->user.id);
#define LIST_WHERE "FROM updates u WHERE (?1 IS NULL OR u.iso_week = ?1) AND (?2 IS NULL OR u.author_id = ?2) " \
                   "AND (?3 IS NULL OR u.kind = ?3) AND (?4 IS NULL OR u.status = ?4) " \
                   "AND (u.status = 'ready' OR u.author_id = ?5 OR ?4 IS NOT NULL) "
    ids = cat_rows(r->cat, "SELECT u.id " LIST_WHERE
                   "ORDER BY u.kind = 'allhands' DESC, u.created_at DESC, u.id DESC LIMIT ?6 OFFSET ?7",
                   "sssssII", week, author, kind, status, viewer, (int64_t)limit, (int64_t)offset);
    total = cat_row(r->cat, "SELECT COUNT(*) AS n " LIST_WHERE, "sssss", week, author, kind, status, viewer);
#undef LIST_WHERE
    if (!ids || !total) {
        json_decref(ids);
        json_decref(total);
        return http_error(o, 500, "internal", "could not list updates");
    }
    {
        json_t *body = json_pack("{s:o,s:O}", "updates", build_list(r, ids), "total", json_object_get(total, "n"));
        json_decref(ids);
        json_decref(total);
        return http_json(o, 200, body);
    }
}

static int h_get(struct req *r, struct resp *o)
{
    int64_t id;
    json_t *u = get_update(r, o, &id);
    if (!u)
        return o->status;
    return http_json(o, 200, json_pack("{s:o}", "update", u));
}

static int h_patch(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "title", "description", NULL };
    const char *title, *desc;
    json_t *body, *u;
    int64_t id;
    int st;

    if (!(u = get_update(r, o, &id)))
        return o->status;
    if (!can_edit(r, u)) {
        json_decref(u);
        return http_error(o, 403, "forbidden", "only the author or an administrator can edit this update");
    }
    json_decref(u);
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o))) {
        json_decref(body);
        return st;
    }
    if ((st = api_str_field(body, "title", 0, 200, &title, o)) ||
        (st = api_str_field(body, "description", 0, 5000, &desc, o))) {
        json_decref(body);
        return st;
    }
    if (title && !*title) {
        json_decref(body);
        return http_error(o, 400, "bad_field", "the title must not be empty");
    }
    if ((title && cat_exec(r->cat, "UPDATE updates SET title = ?, updated_at = ? WHERE id = ?", "sII",
                           title, (int64_t)hc_now(), id) < 0) ||
        (desc && cat_exec(r->cat, "UPDATE updates SET description = ?, updated_at = ? WHERE id = ?", "sII",
                          desc, (int64_t)hc_now(), id) < 0)) {
        json_decref(body);
        return http_error(o, 500, "internal", "could not save the update");
    }
    json_decref(body);
    return h_get(r, o);
}

static int h_delete(struct req *r, struct resp *o)
{
    char path[1200];
    json_t *u, *inputs, *row;
    int64_t id;
    size_t i;

    if (!(u = get_update(r, o, &id)))
        return o->status;
    if (!can_edit(r, u)) {
        json_decref(u);
        return http_error(o, 403, "forbidden", "only the author or an administrator can delete this update");
    }
    json_decref(u);
    inputs = cat_rows(r->cat, "SELECT input_path FROM jobs WHERE update_id = ?", "I", id);
    if (cat_begin(r->cat) < 0) {
        json_decref(inputs);
        return http_error(o, 503, "busy", "the catalog is busy; try again");
    }
    if (cat_exec(r->cat, "DELETE FROM uploads WHERE update_id = ?", "I", id) < 0 ||
        cat_exec(r->cat, "DELETE FROM updates WHERE id = ?", "I", id) != 1 ||
        cat_commit(r->cat) < 0) {
        cat_rollback(r->cat);
        json_decref(inputs);
        return http_error(o, 500, "internal", "could not delete the update");
    }
    /* The catalog no longer knows it; now its files go. A worker still on
     * it notices at its next heartbeat and stops. */
    snprintf(path, sizeof(path), "%s/media/%lld", r->conf->data_dir, (long long)id);
    hc_rmtree(path);
    json_array_foreach(inputs, i, row) {
        const char *p = json_string_value(json_object_get(row, "input_path"));
        if (p)
            unlink(p);
    }
    json_decref(inputs);
    return http_json(o, 200, json_pack("{s:b}", "deleted", 1));
}

/* ---- the week ---- */

static int h_week(struct req *r, struct resp *o)
{
    char week[16], viewer[32];
    json_t *allhands, *weekly, *posted, *missing, *ids;

    if (!strcmp(r->match.params[0], "current"))
        current_week(r, week, sizeof(week));
    else if (hc_iso_week_parse(r->match.params[0], NULL, NULL) == 0)
        hc_strlcpy(week, r->match.params[0], sizeof(week));
    else
        return http_error(o, 400, "bad_week", "week must look like 2026-W48 or be \"current\"");
    snprintf(viewer, sizeof(viewer), "%lld", (long long)r->user.id);
    ids = cat_rows(r->cat, "SELECT id FROM updates WHERE iso_week = ? AND kind = 'allhands' "
                           "AND (status = 'ready' OR author_id = ?) ORDER BY created_at DESC",
                   "ss", week, viewer);
    allhands = build_list(r, ids);
    json_decref(ids);
    ids = cat_rows(r->cat, "SELECT id FROM updates WHERE iso_week = ? AND kind = 'weekly' "
                           "AND (status = 'ready' OR author_id = ?) ORDER BY created_at DESC",
                   "ss", week, viewer);
    weekly = build_list(r, ids);
    json_decref(ids);
    posted = cat_rows(r->cat,
        "SELECT id, name, title, team FROM users u WHERE deactivated = 0 AND EXISTS "
        "(SELECT 1 FROM updates p WHERE p.author_id = u.id AND p.iso_week = ? "
        " AND p.status IN ('queued', 'processing', 'ready')) ORDER BY name COLLATE NOCASE", "s", week);
    missing = cat_rows(r->cat,
        "SELECT id, name, title, team FROM users u WHERE deactivated = 0 AND NOT EXISTS "
        "(SELECT 1 FROM updates p WHERE p.author_id = u.id AND p.iso_week = ? "
        " AND p.status IN ('queued', 'processing', 'ready')) ORDER BY name COLLATE NOCASE", "s", week);
    return http_json(o, 200, json_pack("{s:s,s:o,s:o,s:o,s:o}", "week", week, "allhands", allhands,
                                       "updates", weekly, "posted", posted ? posted : json_array(),
                                       "missing", missing ? missing : json_array()));
}

/* ---- views ---- */

static int h_view_post(struct req *r, struct resp *o)
{
    json_t *body, *u, *pos, *comp;
    int64_t id, now = (int64_t)hc_now();
    double p, dur;
    int completed = 0;

    if (!(u = get_update(r, o, &id)))
        return o->status;
    dur = json_number_value(json_object_get(u, "duration"));
    json_decref(u);
    if (!(body = http_body_json(r, o)))
        return o->status;
    pos = json_object_get(body, "position");
    comp = json_object_get(body, "completed");
    if (!json_is_number(pos) || (p = json_number_value(pos)) < 0 || !isfinite(p) ||
        (dur > 0 && p > dur + 5) || (comp && !json_is_boolean(comp))) {
        json_decref(body);
        return http_error(o, 400, "bad_field", "position must be a number of seconds within the video "
                          "(and completed true or false)");
    }
    completed = (comp && json_is_true(comp)) || (dur > 0 && p >= dur - 1.5);
    json_decref(body);
    if (cat_exec(r->cat,
            "INSERT INTO views(update_id, user_id, first_seen, last_seen, position, completed) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(update_id, user_id) DO UPDATE SET "
            "last_seen = excluded.last_seen, position = MAX(position, excluded.position), "
            "completed = MAX(completed, excluded.completed)",
            "IIIIdi", id, r->user.id, now, now, p, completed) < 0)
        return http_error(o, 500, "internal", "could not record the view");
    u = cat_row(r->cat, "SELECT position, completed FROM views WHERE update_id = ? AND user_id = ?",
                "II", id, r->user.id);
    if (u)
        json_object_set_new(u, "completed", json_boolean(json_integer_value(json_object_get(u, "completed"))));
    return http_json(o, 200, json_pack("{s:o}", "viewed", u ? u : json_null()));
}

static int h_views(struct req *r, struct resp *o)
{
    json_t *u, *rows, *row;
    int64_t id;
    size_t i;

    if (!(u = get_update(r, o, &id)))
        return o->status;
    if (!can_edit(r, u)) {
        json_decref(u);
        return http_error(o, 403, "forbidden", "only the author or an administrator can see who watched");
    }
    json_decref(u);
    rows = cat_rows(r->cat, "SELECT v.user_id AS user_id, s.name AS user_name, v.first_seen, v.last_seen, "
                            "v.position, v.completed FROM views v JOIN users s ON s.id = v.user_id "
                            "WHERE v.update_id = ? ORDER BY v.last_seen DESC", "I", id);
    json_array_foreach(rows, i, row) {
        json_t *user = json_object();
        move_prefixed(row, user, "user_");
        json_object_set_new(row, "user", user);
        json_object_set_new(row, "completed", json_boolean(json_integer_value(json_object_get(row, "completed"))));
    }
    return http_json(o, 200, json_pack("{s:o}", "views", rows ? rows : json_array()));
}

/* ---- comments ---- */

static json_t *with_user(json_t *rows)
{
    json_t *row;
    size_t i;

    json_array_foreach(rows, i, row) {
        json_t *user = json_object();
        move_prefixed(row, user, "user_");
        json_object_set_new(row, "user", user);
    }
    return rows;
}

static int h_comments(struct req *r, struct resp *o)
{
    json_t *u, *rows;
    int64_t id;

    if (!(u = get_update(r, o, &id)))
        return o->status;
    json_decref(u);
    rows = cat_rows(r->cat, "SELECT c.id, c.user_id AS user_id, s.name AS user_name, c.body, c.at_seconds, "
                            "c.created_at FROM comments c JOIN users s ON s.id = c.user_id "
                            "WHERE c.update_id = ? ORDER BY COALESCE(c.at_seconds, 1e12), c.id", "I", id);
    return http_json(o, 200, json_pack("{s:o}", "comments", with_user(rows ? rows : json_array())));
}

static int at_seconds(json_t *body, double *out, int *present, struct resp *o)
{
    json_t *v = json_object_get(body, "at_seconds");

    *present = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v) || json_number_value(v) < 0 || !isfinite(json_number_value(v)) ||
        json_number_value(v) > 86400)
        return http_error(o, 400, "bad_field", "at_seconds must be a time in the video, in seconds");
    *out = json_number_value(v);
    *present = 1;
    return 0;
}

static int h_comment_post(struct req *r, struct resp *o)
{
    json_t *body, *u, *row;
    const char *text;
    double at = 0;
    int has_at, st;
    int64_t id, cid;

    if (!(u = get_update(r, o, &id)))
        return o->status;
    json_decref(u);
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_str_field(body, "body", 1, 5000, &text, o)) || (st = at_seconds(body, &at, &has_at, o))) {
        json_decref(body);
        return st;
    }
    if (cat_begin(r->cat) < 0) {
        json_decref(body);
        return http_error(o, 503, "busy", "the catalog is busy; try again");
    }
    cid = cat_insert(r->cat, has_at ?
                     "INSERT INTO comments(update_id, user_id, at_seconds, body, created_at) VALUES (?, ?, ?, ?, ?)" :
                     "INSERT INTO comments(update_id, user_id, at_seconds, body, created_at) VALUES (?, ?, NULLIF(?, -1), ?, ?)",
                     "IIdsI", id, r->user.id, has_at ? at : -1.0, text, (int64_t)hc_now());
    json_decref(body);
    if (cid < 0 || mail_on_comment(r->cat, r->conf, cid) < 0 || cat_commit(r->cat) < 0) {
        cat_rollback(r->cat);
        return http_error(o, 500, "internal", "could not save the comment");
    }
    row = with_user(cat_rows(r->cat, "SELECT c.id, c.user_id AS user_id, s.name AS user_name, c.body, "
                                     "c.at_seconds, c.created_at FROM comments c JOIN users s ON s.id = c.user_id "
                                     "WHERE c.id = ?", "I", cid));
    st = http_json(o, 201, json_pack("{s:O}", "comment", json_array_get(row, 0)));
    json_decref(row);
    return st;
}

static int delete_own(struct req *r, struct resp *o, const char *sql_owner, const char *sql_delete,
                      const char *what)
{
    int64_t id, owner;

    if (api_parse_id(r->match.params[0], &id) < 0 || !(owner = cat_int(r->cat, 0, sql_owner, "I", id)))
        return http_error(o, 404, "not_found", "there is no such %s", what);
    if (owner != r->user.id && strcmp(r->user.role, "admin"))
        return http_error(o, 403, "forbidden", "you can only delete your own %s", what);
    if (cat_exec(r->cat, sql_delete, "I", id) != 1)
        return http_error(o, 500, "internal", "could not delete the %s", what);
    return http_json(o, 200, json_pack("{s:b}", "deleted", 1));
}

static int h_comment_delete(struct req *r, struct resp *o)
{
    return delete_own(r, o, "SELECT user_id FROM comments WHERE id = ?", "DELETE FROM comments WHERE id = ?",
                      "comment");
}

/* ---- reactions ---- */

static int emoji_ok(const char *e)
{
    size_t n = strlen(e);
    if (n == 0 || n > 32)
        return 0;
    /* Emoji are outside ASCII; refuse words and markup. */
    for (const unsigned char *p = (const unsigned char *)e; *p; p++)
        if (*p < 0x80)
            return 0;
    return 1;
}

static int h_reactions(struct req *r, struct resp *o)
{
    json_t *u, *rows;
    int64_t id;

    if (!(u = get_update(r, o, &id)))
        return o->status;
    json_decref(u);
    rows = cat_rows(r->cat, "SELECT x.id, x.user_id AS user_id, s.name AS user_name, x.emoji, x.at_seconds, "
                            "x.created_at FROM reactions x JOIN users s ON s.id = x.user_id "
                            "WHERE x.update_id = ? ORDER BY x.id", "I", id);
    return http_json(o, 200, json_pack("{s:o}", "reactions", with_user(rows ? rows : json_array())));
}

static int h_reaction_post(struct req *r, struct resp *o)
{
    json_t *body, *u, *row;
    const char *emoji;
    double at = 0;
    int has_at, st, created;
    int64_t id;

    if (!(u = get_update(r, o, &id)))
        return o->status;
    json_decref(u);
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_str_field(body, "emoji", 1, 32, &emoji, o)) || (st = at_seconds(body, &at, &has_at, o))) {
        json_decref(body);
        return st;
    }
    if (!emoji_ok(emoji)) {
        json_decref(body);
        return http_error(o, 400, "bad_field", "emoji must be an emoji");
    }
    created = cat_exec(r->cat, "INSERT INTO reactions(update_id, user_id, emoji, at_seconds, created_at) "
                               "VALUES (?, ?, ?, NULLIF(?, -1), ?) ON CONFLICT DO NOTHING",
                       "IIsdI", id, r->user.id, emoji, has_at ? at : -1.0, (int64_t)hc_now());
    row = with_user(cat_rows(r->cat, "SELECT x.id, x.user_id AS user_id, s.name AS user_name, x.emoji, "
                                     "x.at_seconds, x.created_at FROM reactions x JOIN users s ON s.id = x.user_id "
                                     "WHERE x.update_id = ? AND x.user_id = ? AND x.emoji = ?",
                             "IIs", id, r->user.id, emoji));
    json_decref(body);
    if (created < 0 || !row || !json_array_size(row)) {
        json_decref(row);
        return http_error(o, 500, "internal", "could not save the reaction");
    }
    st = http_json(o, created ? 201 : 200, json_pack("{s:O}", "reaction", json_array_get(row, 0)));
    json_decref(row);
    return st;
}

static int h_reaction_delete(struct req *r, struct resp *o)
{
    return delete_own(r, o, "SELECT user_id FROM reactions WHERE id = ?", "DELETE FROM reactions WHERE id = ?",
                      "reaction");
}

const struct route update_routes[] = {
    { "GET",    "/api/updates",                  h_list,            ROLE_MEMBER, 0, NULL },
    { "GET",    "/api/updates/{id}",             h_get,             ROLE_MEMBER, 0, NULL },
    { "PATCH",  "/api/updates/{id}",             h_patch,           ROLE_MEMBER, 0, NULL },
    { "DELETE", "/api/updates/{id}",             h_delete,          ROLE_MEMBER, 0, NULL },
    { "GET",    "/api/weeks/{week}",             h_week,            ROLE_MEMBER, 0, NULL },
    { "POST",   "/api/updates/{id}/views",       h_view_post,       ROLE_MEMBER, 0, NULL },
    { "GET",    "/api/updates/{id}/views",       h_views,           ROLE_MEMBER, 0, NULL },
    { "GET",    "/api/updates/{id}/comments",    h_comments,        ROLE_MEMBER, 0, NULL },
    { "POST",   "/api/updates/{id}/comments",    h_comment_post,    ROLE_MEMBER, 0, NULL },
    { "DELETE", "/api/comments/{id}",            h_comment_delete,  ROLE_MEMBER, 0, NULL },
    { "GET",    "/api/updates/{id}/reactions",   h_reactions,       ROLE_MEMBER, 0, NULL },
    { "POST",   "/api/updates/{id}/reactions",   h_reaction_post,   ROLE_MEMBER, 0, NULL },
    { "DELETE", "/api/reactions/{id}",           h_reaction_delete, ROLE_MEMBER, 0, NULL },
};
const size_t update_nroutes = HC_ARRAY_LEN(update_routes);
