/*
 * updates.c - handlers for /api/updates, /api/weeks, views, comments,
 * reactions and the check-in prompts (/api/prompts). Every catalog access goes through db_updates and db_social;
 * who may see an update is decided there, by the one visibility rule
 * (db_update_get, db_update_list). JSON is built here, one *_json() per
 * type.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "conf.h"
#include "db_habit.h"
#include "db_settings.h"
#include "db_social.h"
#include "db_trim.h"
#include "db_updates.h"
#include "habit.h"
#include "http.h"
#include "isoweek.h"
#include "layout.h"
#include "mail.h"
#include "media.h"
#include "store.h"
#include "updates.h"
#include "picture.h"
#include "util.h"
#include "worker.h"

static int is_admin(const struct req *r)
{
    return r->user.role == ROLE_ADMIN;
}

void updates_viewer(const struct req *r, struct db_viewer *v)
{
    v->user_id = r->user.id;
    v->admin = is_admin(r);
}

/* ---- JSON, one function per type ---- */

static json_t *int_or_null(int64_t v)
{
    return v ? json_integer(v) : json_null();
}

static json_t *at_json(int has_at, double at)
{
    return has_at ? json_real(at) : json_null();
}

static json_t *view_json(const struct db_view *v)
{
    return json_pack("{s:f,s:b}", "position", v->position, "completed", v->completed);
}

static json_t *answer_json(const struct db_answer *a)
{
    return json_pack("{s:s,s:s}", "prompt", a->prompt, "text", a->text);
}

static json_t *rendition_json(const struct db_rendition *x)
{
    return json_pack("{s:s,s:i,s:i,s:i}", "name", x->name, "width", x->width, "height", x->height,
                     "bandwidth", x->bandwidth);
}

static json_t *progress_json(const struct db_update *u, json_t **eta)
{
    *eta = json_null();
    if (!strcmp(u->status, "ready"))
        return json_integer(100);
    if (!strcmp(u->status, "processing")) {
        if (u->eta >= 0) {
            json_decref(*eta);
            *eta = json_integer((json_int_t)ceil(u->eta));
        }
        return json_integer((json_int_t)floor(u->progress));
    }
    return json_integer(0);
}

/* The URLs of u's media, version `version` (db_trim.h): a new version
 * has new URLs, so what browsers cached as immutable stays right. */
static void set_urls(json_t *o, const struct db_update *u, int version, int first_ok)
{
    static const char *const keys[][2] = {
        { "playback_url", "master.m3u8" }, { "poster_url", "poster.jpg" },
        { "storyboard_url", "storyboard.vtt" },
    };
    char url[300], file[64], dir[32];

    layout_version_name(version, dir, sizeof(dir));
    for (size_t i = 0; i < HC_ARRAY_LEN(keys); i++) {
        if (strcmp(u->status, "ready")) {
            json_object_set_new(o, keys[i][0], json_null());
            continue;
        }
        snprintf(file, sizeof(file), "%s%s%s", dir, *dir ? "/" : "", keys[i][1]);
        media_url(u->id, u->nonce, file, url, sizeof(url));
        json_object_set_new(o, keys[i][0], json_string(url));
    }
    /* Playable before ready: the first rendition (its master playlist,
     * video and audio), until the ladder is published. It is untrimmed, so
     * once a trim is set only its author is offered it. */
    json_object_set_new(o, "playable", json_boolean(u->playable && (first_ok || !strcmp(u->status, "ready"))));
    if (u->playable && first_ok && strcmp(u->status, "ready")) {
        media_url(u->id, u->nonce, LAYOUT_FIRST_DIR "/master.m3u8", url, sizeof(url));
        json_object_set_new(o, "playback_url", json_string(url));
    }
}

/* Whether the first pass runs slower than real time, and when it will be
 * done at the pace it measured (seconds, or null before it measured one,
 * or when the source does not say how long it is). */
static void set_first_slow(json_t *o, const struct db_update *u)
{
    int slow = u->first_slow && strcmp(u->status, "ready") && strcmp(u->status, "failed");

    json_object_set_new(o, "first_slow", json_boolean(slow));
    json_object_set_new(o, "playable_eta", slow && u->first_eta >= 0
                                           ? json_integer((json_int_t)ceil(u->first_eta)) : json_null());
}

/* What the JSON of a page of updates needs beyond their rows, read for
 * the whole page with one statement per kind (db_*_of, db_*_gets): the
 * renditions, the viewer's progress, the check-in answers, the trim and
 * media version of each. */
struct page {
    size_t                  n;
    struct db_rendition_of *rend;
    size_t                  nrend, rend_at;   /* rows, and the next one to hand out */
    struct db_answer_of    *ans;
    size_t                  nans, ans_at;
    struct db_view         *view;
    int                    *viewed;
    struct db_media        *media;
    int                    *has_media;
};

static void page_free(struct page *p)
{
    free(p->rend);
    free(p->ans);
    free(p->view);
    free(p->viewed);
    free(p->media);
    free(p->has_media);
}

/* DB_OK with p filled for list[0..n), or a negative db_rc (p empty). */
static int page_read(struct catalog *c, const struct db_update *list, size_t n, int64_t viewer, struct page *p)
{
    int64_t *ids = hc_calloc(n ? n : 1, sizeof(*ids));
    int rc;

    memset(p, 0, sizeof(*p));
    p->n = n;
    for (size_t i = 0; i < n; i++)
        ids[i] = list[i].id;
    p->view = hc_calloc(n ? n : 1, sizeof(*p->view));
    p->viewed = hc_calloc(n ? n : 1, sizeof(*p->viewed));
    p->media = hc_calloc(n ? n : 1, sizeof(*p->media));
    p->has_media = hc_calloc(n ? n : 1, sizeof(*p->has_media));
    if ((rc = db_rendition_lists(c, ids, n, &p->rend, &p->nrend)) < 0 ||
        (rc = db_view_gets(c, ids, n, viewer, p->view, p->viewed)) < 0 ||
        (rc = db_update_answers_of(c, ids, n, &p->ans, &p->nans)) < 0 ||
        (rc = db_update_media_states(c, ids, n, p->media, p->has_media)) < 0) {
        page_free(p);
        memset(p, 0, sizeof(*p));
    }
    free(ids);
    return rc < 0 ? rc : DB_OK;
}

/* The trim and media version of u (m: its media state) into o, with the
 * URLs of the version served. */
static void media_json(const struct db_update *u, const struct db_media *m, int64_t viewer, json_t *o)
{
    int newer = m->latest > m->version;

    set_urls(o, u, m->version, !m->trimmed || u->author_id == viewer);
    json_object_set_new(o, "media_version", json_integer(m->version));
    json_object_set_new(o, "trim", m->trimmed ? json_pack("{s:f,s:f}", "start", m->trim_start, "end", m->trim_end)
                                              : json_null());
    json_object_set_new(o, "source_duration", m->source_duration > 0 ? json_real(m->source_duration)
                                                                     : json_null());
    /* A new trim being made while the old version is served. */
    json_object_set_new(o, "trimming", newer && m->making && !strcmp(u->status, "ready")
                                       ? json_pack("{s:I}", "progress", (json_int_t)floor(m->progress))
                                       : json_null());
    json_object_set_new(o, "trim_error", newer && m->error[0] ? json_string(m->error) : json_null());
}

/* The JSON of update i of page p (u = its row) as viewer sees it: DB_OK
 * with *out, or DB_ERROR. Call for i = 0, 1, ... in turn: the page's
 * renditions and answers are handed out in that order. */
static int page_json(struct page *p, size_t i, const struct db_update *u, int64_t viewer, json_t **out)
{
    json_t *o, *arr, *eta, *progress, *answers;

    *out = NULL;
    arr = json_array();
    for (; p->rend_at < p->nrend && p->rend[p->rend_at].i <= i; p->rend_at++)
        if (p->rend[p->rend_at].i == i)
            json_array_append_new(arr, rendition_json(&p->rend[p->rend_at].r));
    answers = json_array();
    for (; p->ans_at < p->nans && p->ans[p->ans_at].i <= i; p->ans_at++)
        if (p->ans[p->ans_at].i == i)
            json_array_append_new(answers, answer_json(&p->ans[p->ans_at].a));
    progress = progress_json(u, &eta);
    o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:I,s:o,"
                  "s:{s:I,s:s,s:s,s:s,s:s},s:o,s:o,s:I,s:I,s:o,s:o}",
                  "id", (json_int_t)u->id, "kind", u->kind, "iso_week", u->iso_week, "title", u->title,
                  "description", u->description ? u->description : "", "status", u->status,
                  "error", u->error,
                  "duration", u->has_duration ? json_real(u->duration) : json_null(),
                  "width", int_or_null(u->width), "height", int_or_null(u->height),
                  "created_at", (json_int_t)u->created_at, "ready_at", int_or_null(u->ready_at),
                  "author", "id", (json_int_t)u->author_id, "name", u->author_name,
                  "email", u->author_email, "title", u->author_title, "team", u->author_team,
                  "progress", progress, "eta", eta,
                  "views_count", (json_int_t)u->views_count, "comments_count", (json_int_t)u->comments_count,
                  "renditions", arr, "viewed", p->viewed[i] ? view_json(&p->view[i]) : json_null());
    if (!o) {
        json_decref(answers);
        return DB_ERROR;
    }
    json_object_set_new(o, "answers", answers);
    set_first_slow(o, u);
    json_object_set_new(json_object_get(o, "author"), "avatar_url", picture_url_json(u->author_avatar));
    media_json(u, &p->media[i], viewer, o);
    *out = o;
    return DB_OK;
}

/* The JSON of one update as viewer sees it: DB_OK with *out, or a
 * negative db_rc (renditions or the viewer's progress unreadable). */
static int update_json(struct catalog *c, const struct db_update *u, int64_t viewer, json_t **out)
{
    struct page p;
    int rc;

    *out = NULL;
    if ((rc = page_read(c, u, 1, viewer, &p)) < 0)
        return rc;
    rc = page_json(&p, 0, u, viewer, out);
    page_free(&p);
    return rc;
}

int updates_get_json(struct catalog *c, const struct db_viewer *v, int64_t id, json_t **out)
{
    struct db_update u;
    int rc;

    *out = NULL;
    if ((rc = db_update_get(c, v, id, &u)) != DB_OK)
        return rc;
    rc = update_json(c, &u, v->user_id, out);
    db_update_free(&u);
    return rc;
}

int updates_gets_json(struct catalog *c, const struct db_viewer *v, const int64_t *ids, size_t n, json_t **out)
{
    struct db_update *got = hc_calloc(n ? n : 1, sizeof(*got)), *list = hc_calloc(n ? n : 1, sizeof(*list));
    size_t *at = hc_calloc(n ? n : 1, sizeof(*at)), k = 0;
    int *found = hc_calloc(n ? n : 1, sizeof(*found)), rc;
    struct page p;

    memset(out, 0, n * sizeof(*out));
    if ((rc = db_update_gets(c, v, ids, n, got, found)) < 0)
        goto done;
    for (size_t i = 0; i < n; i++) {   /* the visible ones, as one page */
        if (found[i]) {
            at[k] = i;
            list[k++] = got[i];
        }
    }
    if ((rc = page_read(c, list, k, v->user_id, &p)) < 0)
        goto done;
    for (size_t i = 0; i < k && rc >= 0; i++)
        rc = page_json(&p, i, &list[i], v->user_id, &out[at[i]]);
    page_free(&p);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) {
            json_decref(out[i]);
            out[i] = NULL;
        }
    }
done:
    for (size_t i = 0; i < n; i++)
        db_update_free(&got[i]);
    free(got);
    free(list);
    free(at);
    free(found);
    return rc < 0 ? rc : DB_OK;
}

/* A JSON array of updates, with what they need read for all of them at
 * once; DB_OK or a negative db_rc. */
static int list_json(struct catalog *c, struct db_update *list, size_t n, int64_t viewer, json_t **out)
{
    json_t *arr, *j;
    struct page p;
    int rc;

    *out = NULL;
    if ((rc = page_read(c, list, n, viewer, &p)) < 0)
        return rc;
    arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if ((rc = page_json(&p, i, &list[i], viewer, &j)) < 0) {
            json_decref(arr);
            page_free(&p);
            return rc;
        }
        json_array_append_new(arr, j);
    }
    page_free(&p);
    *out = arr;
    return DB_OK;
}

static json_t *user_ref_json(int64_t id, const char *name)
{
    return json_pack("{s:I,s:s}", "id", (json_int_t)id, "name", name);
}

static json_t *comment_json(const struct db_comment *m)
{
    return json_pack("{s:I,s:o,s:s,s:o,s:I}", "id", (json_int_t)m->id,
                     "user", user_ref_json(m->user_id, m->user_name), "body", m->body ? m->body : "",
                     "at_seconds", at_json(m->has_at, m->at_seconds), "created_at", (json_int_t)m->created_at);
}

static json_t *reaction_json(const struct db_reaction *x)
{
    return json_pack("{s:I,s:o,s:s,s:o,s:I}", "id", (json_int_t)x->id,
                     "user", user_ref_json(x->user_id, x->user_name), "emoji", x->emoji,
                     "at_seconds", at_json(x->has_at, x->at_seconds), "created_at", (json_int_t)x->created_at);
}

static json_t *watcher_json(const struct db_view *v)
{
    return json_pack("{s:o,s:I,s:I,s:f,s:b}", "user", user_ref_json(v->user_id, v->user_name),
                     "first_seen", (json_int_t)v->first_seen, "last_seen", (json_int_t)v->last_seen,
                     "position", v->position, "completed", v->completed);
}

static json_t *person_json(const struct db_week_person *p)
{
    return json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)p->id, "name", p->name, "title", p->title,
                     "team", p->team);
}

/* ---- loading the update a request is about ---- */

/* The update named by the path, if this person may see it: 0 with *u
 * filled (free with db_update_free), else the status of the error answered
 * (404 for missing or not visible, 503/507 for the catalog). */
static int load_update(struct req *r, struct resp *o, struct db_update *u)
{
    struct db_viewer v;
    int64_t id;
    int rc;

    memset(u, 0, sizeof(*u));
    updates_viewer(r, &v);
    if (api_parse_id(r->match.params[0], &id) < 0)
        return http_error(o, 404, "not_found", "there is no such update");
    rc = db_update_get(r->cat, &v, id, u);
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no such update");
    if (rc < 0)
        return api_db_fail(o, rc, "reading the update");
    return 0;
}

static int can_edit(struct req *r, const struct db_update *u)
{
    return is_admin(r) || u->author_id == r->user.id;
}

static int current_week(struct req *r, char *out, size_t outsz)
{
    return hc_iso_week(hc_now(), r->user.time_zone[0] ? r->user.time_zone : "UTC", out, outsz);
}

/* Answer {"update": ...} for u. */
static int answer_update(struct req *r, struct resp *o, int status, const struct db_update *u)
{
    json_t *j;
    int rc = update_json(r->cat, u, r->user.id, &j);

    if (rc < 0)
        return api_db_fail(o, rc, "reading the update");
    return http_json(o, status, json_pack("{s:o}", "update", j));
}

/* ---- list, get, edit, delete ---- */

static int h_list(struct req *r, struct resp *o)
{
    const char *week = http_get_arg(r, "week"), *author = http_get_arg(r, "author");
    const char *kind = http_get_arg(r, "kind"), *status = http_get_arg(r, "status");
    const char *ls = http_get_arg(r, "limit"), *os = http_get_arg(r, "offset");
    struct db_update_filter f = { .limit = 50 };
    struct db_viewer v;
    struct db_update *list;
    size_t n;
    int64_t total;
    char wbuf[16];
    json_t *arr;
    int rc;

    if (week && !strcmp(week, "current")) {
        current_week(r, wbuf, sizeof(wbuf));
        week = wbuf;
    }
    if (week && hc_iso_week_parse(week, NULL, NULL) < 0)
        return http_error(o, 400, "bad_week", "week must look like 2026-W48");
    if (author && api_parse_id(author, &f.author_id) < 0)
        return http_error(o, 400, "bad_author", "author must be a person's id");
    if (kind && strcmp(kind, "weekly") && strcmp(kind, "allhands"))
        return http_error(o, 400, "bad_kind", "kind must be weekly or allhands");
    if (status && strcmp(status, "queued") && strcmp(status, "processing") && strcmp(status, "ready") &&
        strcmp(status, "failed") && strcmp(status, "uploading"))
        return http_error(o, 400, "bad_status", "status must be uploading, queued, processing, ready or failed");
    if ((ls && hc_parse_long(ls, 1, 200, &f.limit) < 0) || (os && hc_parse_long(os, 0, 1000000, &f.offset) < 0))
        return http_error(o, 400, "bad_page", "limit must be 1 to 200 and offset 0 or more");
    f.week = week;
    f.kind = kind;
    f.status = status;
    updates_viewer(r, &v);
    if ((rc = db_update_list(r->cat, &v, &f, &list, &n, &total)) < 0)
        return api_db_fail(o, rc, "listing updates");
    rc = list_json(r->cat, list, n, r->user.id, &arr);
    db_update_list_free(&list, n);
    if (rc < 0)
        return api_db_fail(o, rc, "listing updates");
    return http_json(o, 200, json_pack("{s:o,s:I}", "updates", arr, "total", (json_int_t)total));
}

static int h_get(struct req *r, struct resp *o)
{
    struct db_update u;
    int st;

    if ((st = load_update(r, o, &u)))
        return st;
    st = answer_update(r, o, 200, &u);
    db_update_free(&u);
    return st;
}

/* What a PATCH's transaction needs after the change. */
struct patch_ctx {
    const struct conf *conf;
    int became_allhands;        /* the kind changed to all-hands */
    int new_text;               /* the description or the answers changed */
};

/* Inside the PATCH's transaction: an update that became all-hands and is
 * ready mails everyone now (one not ready yet does when it is: the worker
 * reads its kind then). The outbox keys make that once per person,
 * however often the kind flips. New text records its @mentions, mailed
 * now if the update is ready (else when it becomes so). */
static int patch_mail(struct catalog *c, int64_t id, void *arg)
{
    struct patch_ctx *x = arg;
    struct db_viewer all = { .admin = 1 };
    struct db_update u;
    int rc, ready;

    if (!x->became_allhands && !x->new_text)
        return 0;
    if ((rc = db_update_get(c, &all, id, &u)) != DB_OK)
        return rc < 0 ? rc : DB_ERROR;
    ready = !strcmp(u.status, "ready");
    db_update_free(&u);
    if (x->became_allhands && ready && (rc = mail_on_update_ready(c, x->conf, id)) < 0)
        return rc;
    if (x->new_text && ((rc = habit_mentions_update(c, id)) < 0 || (rc = mail_on_mentions(c, id)) < 0))
        return rc;
    return 0;
}

#define MAX_ANSWERS UPDATES_MAX_ANSWERS

int updates_answers_parse(const json_t *arr, struct db_answer *out, size_t *n)
{
    const json_t *a;
    size_t i;

    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_ANSWERS)
        return -1;
    json_array_foreach(arr, i, a) {
        const json_t *p = json_object_get(a, "prompt"), *t = json_object_get(a, "text");
        if (!json_is_object(a) || !json_is_string(p) || !json_is_string(t) || !json_string_length(p) ||
            json_string_length(p) > 200 || json_string_length(t) > 1000 ||
            strlen(json_string_value(p)) != json_string_length(p) ||
            strlen(json_string_value(t)) != json_string_length(t)) {
            *n = 0;
            return -1;
        }
        if (!*json_string_value(t))
            continue;
        hc_strlcpy(out[*n].prompt, json_string_value(p), sizeof(out->prompt));
        hc_strlcpy(out[*n].text, json_string_value(t), sizeof(out->text));
        (*n)++;
    }
    return 0;
}

/* The answers of a PATCH body ([{prompt, text}], at most MAX_ANSWERS;
 * empty answers are left out): 0 with ch filled (ch->set_answers when
 * given), else the 400 answered. */
static int patch_answers(json_t *body, struct db_answer *out, struct db_update_change *ch, struct resp *o)
{
    json_t *arr = json_object_get(body, "answers");

    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_ANSWERS)
        return http_error(o, 400, "bad_field", "answers must be a list of at most %d {prompt, text}",
                          MAX_ANSWERS);
    if (updates_answers_parse(arr, out, &ch->nanswers) < 0)
        return http_error(o, 400, "bad_field", "each answer is {prompt, text}: a prompt of 1 to 200 "
                          "bytes and a text of at most 1000");
    ch->answers = out;
    ch->set_answers = 1;
    return 0;
}

/* The kind of a PATCH body: 0 with *kind (NULL when absent), else the
 * error answered. All-hands only for administrators. */
static int patch_kind(struct req *r, json_t *body, const char **kind, struct resp *o)
{
    json_t *k = json_object_get(body, "kind");

    *kind = NULL;
    if (!k)
        return 0;
    if (!json_is_string(k) || (strcmp(json_string_value(k), "weekly") && strcmp(json_string_value(k), "allhands")))
        return http_error(o, 400, "bad_kind", "kind must be weekly or allhands");
    *kind = json_string_value(k);
    if (!strcmp(*kind, "allhands") && !is_admin(r))
        return http_error(o, 403, "forbidden", "only an administrator can make an update all-hands");
    return 0;
}

/* A trim asked for by PATCH. */
struct trim_req {
    int    given;               /* the body has "trim" */
    int    clear;               /* "trim": null */
    double start, end;          /* seconds of the original */
};

#define TRIM_MIN_SECONDS 1.0    /* the shortest video a trim may leave */

/* The trim of a PATCH body ({start, end} in seconds of the original, or
 * null): 0 with *t, else the error answered. Only the author trims, within
 * the original's length when it is known. */
static int patch_trim(struct req *r, int64_t id, int64_t author_id, json_t *body, struct trim_req *t,
                      struct resp *o)
{
    json_t *x = json_object_get(body, "trim"), *s, *e;
    struct db_media m;
    double len;
    int rc;

    memset(t, 0, sizeof(*t));
    if (!x)
        return 0;
    if (author_id != r->user.id)
        return http_error(o, 403, "forbidden", "only the author can trim this update");
    t->given = 1;
    if (json_is_null(x)) {
        t->clear = 1;
        return 0;
    }
    s = json_object_get(x, "start");
    e = json_object_get(x, "end");
    if (!json_is_object(x) || json_object_size(x) != 2 || !json_is_number(s) || !json_is_number(e))
        return http_error(o, 400, "bad_trim", "trim must be {start, end} in seconds, or null");
    t->start = json_number_value(s);
    t->end = json_number_value(e);
    if (!(t->start >= 0) || !(t->end <= 86400) || !(t->end > t->start))
        return http_error(o, 400, "bad_trim", "the trim must start at 0 seconds or later and end after it starts");
    if (t->end - t->start < TRIM_MIN_SECONDS)
        return http_error(o, 400, "trim_too_short", "the trimmed video must last at least 1 second");
    if ((rc = db_update_media_state(r->cat, id, &m)) < 0)
        return api_db_fail(o, rc, "reading the update");
    len = m.source_duration;
    if (len > 0 && t->end > len + 0.05)
        return http_error(o, 400, "trim_out_of_range", "the trim must end within the recording (%.1f seconds)",
                          len);
    return 0;
}

/* PATCH /api/updates/{id}: title, description, kind (author or admin;
 * all-hands only by an admin), answers to the check-in prompts; the trim
 * (the author only: db_trim.h). */
static int h_patch(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "title", "description", "kind", "answers", "trim", NULL };
    struct db_update_change ch = { .now = (int64_t)hc_now() };
    struct db_answer answers[MAX_ANSWERS];
    struct patch_ctx x = { .conf = r->conf };
    struct db_update u;
    struct db_viewer v;
    struct trim_req trim;
    json_t *body;
    int64_t id, author_id;
    int st, rc, version;
    char old_kind[16];

    if ((st = load_update(r, o, &u)))
        return st;
    id = u.id;
    author_id = u.author_id;
    hc_strlcpy(old_kind, u.kind, sizeof(old_kind));
    st = can_edit(r, &u);
    db_update_free(&u);
    if (!st)
        return http_error(o, 403, "forbidden", "only the author or an administrator can edit this update");
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o)) ||
        (st = api_str_field(body, "title", 0, 200, &ch.title, o)) ||
        (st = api_str_field(body, "description", 0, 5000, &ch.description, o)) ||
        (st = patch_kind(r, body, &ch.kind, o)) ||
        (st = patch_answers(body, answers, &ch, o)) ||
        (st = patch_trim(r, id, author_id, body, &trim, o))) {
        json_decref(body);
        return st;
    }
    if (ch.title && !*ch.title) {
        json_decref(body);
        return http_error(o, 400, "bad_field", "the title must not be empty");
    }
    if (ch.kind) {
        ch.priority = !strcmp(ch.kind, "allhands") ? JOB_PRIO_ALLHANDS : JOB_PRIO_WEEKLY;
        x.became_allhands = !strcmp(ch.kind, "allhands") && strcmp(old_kind, "allhands");
    }
    x.new_text = ch.description || ch.set_answers;
    rc = db_update_change(r->cat, id, &ch, patch_mail, &x);
    json_decref(body);
    if (rc == DB_OK && trim.given)
        rc = db_update_trim(r->cat, id, trim.clear, trim.start, trim.end, ch.now, &version);
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no such update");
    if (rc == DB_INVALID)
        return http_error(o, 409, "nothing_to_trim", "this update has no video to trim");
    if (rc < 0)
        return api_db_fail(o, rc, "saving the update");
    updates_viewer(r, &v);
    if ((rc = db_update_get(r->cat, &v, id, &u)) != DB_OK)
        return rc == DB_NOTFOUND ? http_error(o, 404, "not_found", "there is no such update")
                                 : api_db_fail(o, rc, "reading the update");
    st = answer_update(r, o, 200, &u);
    db_update_free(&u);
    return st;
}

static int h_delete(struct req *r, struct resp *o)
{
    char **inputs;
    struct db_update u;
    size_t n;
    int64_t id;
    int st, rc;

    if ((st = load_update(r, o, &u)))
        return st;
    id = u.id;
    st = can_edit(r, &u);
    db_update_free(&u);
    if (!st)
        return http_error(o, 403, "forbidden", "only the author or an administrator can delete this update");
    rc = db_update_delete(r->cat, id, &inputs, &n);
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no such update");
    if (rc < 0)
        return api_db_fail(o, rc, "deleting the update");
    /* The catalog no longer knows it; now its files go. A worker still on
     * it notices at its next heartbeat and stops. */
    store_delete_update(r->conf, id, inputs, n);
    db_strings_free(&inputs, n);
    return http_json(o, 200, json_pack("{s:b}", "deleted", 1));
}

/* ---- the week ---- */

static int week_updates(struct req *r, const char *week, const char *kind, json_t **out)
{
    struct db_update_filter f = { .week = week, .kind = kind, .limit = -1 };
    struct db_viewer v;
    struct db_update *list;
    size_t n;
    int rc;

    updates_viewer(r, &v);
    if ((rc = db_update_list(r->cat, &v, &f, &list, &n, NULL)) < 0)
        return rc;
    rc = list_json(r->cat, list, n, r->user.id, out);
    db_update_list_free(&list, n);
    return rc;
}

/* Who posted (or not) in week: only people who had joined before it
 * ended on the reader's clock (db_habit.h has the rules). */
static int week_people(struct req *r, const char *week, int posted, json_t **out)
{
    struct db_week_person *p;
    size_t n;
    time_t end = hc_iso_week_end(week, r->user.time_zone[0] ? r->user.time_zone : "UTC");
    int rc = db_habit_week_people(r->cat, week, (int64_t)end, posted, &p, &n);

    *out = NULL;
    if (rc < 0)
        return rc;
    *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(*out, person_json(&p[i]));
    free(p);
    return DB_OK;
}

static int h_week(struct req *r, struct resp *o)
{
    char week[16];
    json_t *allhands = NULL, *weekly = NULL, *posted = NULL, *missing = NULL;
    int rc;

    if (!strcmp(r->match.params[0], "current"))
        current_week(r, week, sizeof(week));
    else if (hc_iso_week_parse(r->match.params[0], NULL, NULL) == 0)
        hc_strlcpy(week, r->match.params[0], sizeof(week));
    else
        return http_error(o, 400, "bad_week", "week must look like 2026-W48 or be \"current\"");
    if ((rc = week_updates(r, week, "allhands", &allhands)) < 0 ||
        (rc = week_updates(r, week, "weekly", &weekly)) < 0 ||
        (rc = week_people(r, week, 1, &posted)) < 0 ||
        (rc = week_people(r, week, 0, &missing)) < 0) {
        json_decref(allhands);
        json_decref(weekly);
        json_decref(posted);
        return api_db_fail(o, rc, "reading the week");
    }
    return http_json(o, 200, json_pack("{s:s,s:o,s:o,s:o,s:o}", "week", week, "allhands", allhands,
                                       "updates", weekly, "posted", posted, "missing", missing));
}

/* ---- views ---- */

static int h_view_post(struct req *r, struct resp *o)
{
    struct db_update u;
    struct db_view view;
    json_t *body, *pos, *comp;
    double p, dur;
    int completed, st, rc;
    int64_t id;

    if ((st = load_update(r, o, &u)))
        return st;
    id = u.id;
    dur = u.has_duration ? u.duration : 0;
    db_update_free(&u);
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
    rc = db_view_record(r->cat, id, r->user.id, (int64_t)hc_now(), p, completed, &view);
    if (rc == DB_CONSTRAINT)
        return http_error(o, 404, "not_found", "there is no such update");
    if (rc < 0)
        return api_db_fail(o, rc, "recording the view");
    return http_json(o, 200, json_pack("{s:o}", "viewed", view_json(&view)));
}

static int h_views(struct req *r, struct resp *o)
{
    struct db_update u;
    struct db_view *views;
    size_t n;
    json_t *arr;
    int st, rc;

    if ((st = load_update(r, o, &u)))
        return st;
    st = can_edit(r, &u);
    db_update_free(&u);
    if (!st)
        return http_error(o, 403, "forbidden", "only the author or an administrator can see who watched");
    if ((rc = db_view_list(r->cat, u.id, &views, &n)) < 0)
        return api_db_fail(o, rc, "reading who watched");
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, watcher_json(&views[i]));
    free(views);
    return http_json(o, 200, json_pack("{s:o}", "views", arr));
}

/* ---- comments ---- */

static int h_comments(struct req *r, struct resp *o)
{
    struct db_update u;
    struct db_comment *list;
    size_t n;
    json_t *arr;
    int st, rc;

    if ((st = load_update(r, o, &u)))
        return st;
    db_update_free(&u);
    if ((rc = db_comment_list(r->cat, u.id, &list, &n)) < 0)
        return api_db_fail(o, rc, "reading the comments");
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, comment_json(&list[i]));
    db_comment_list_free(&list, n);
    return http_json(o, 200, json_pack("{s:o}", "comments", arr));
}

/* at_seconds of a body: 0 with *out (-1 when absent), else the 400 answered. */
static int at_seconds(json_t *body, double *out, struct resp *o)
{
    json_t *v = json_object_get(body, "at_seconds");

    *out = -1;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v) || json_number_value(v) < 0 || !isfinite(json_number_value(v)) ||
        json_number_value(v) > 86400)
        return http_error(o, 400, "bad_field", "at_seconds must be a time in the video, in seconds");
    *out = json_number_value(v);
    return 0;
}

/* What a new comment's transaction needs. */
struct comment_ctx {
    const struct conf *conf;
    int64_t     update_id;
    int64_t     user_id;        /* the commenter */
    const char *body;
};

/* Inside the comment's transaction: the mail to the update's author, and
 * the @mentions it makes (mailed if the update is ready). */
static int comment_mail(struct catalog *c, int64_t comment_id, void *arg)
{
    struct comment_ctx *x = arg;
    int rc;

    if ((rc = mail_on_comment(c, x->conf, comment_id)) < 0 ||
        (rc = habit_mentions_comment(c, x->update_id, comment_id, x->user_id, x->body)) < 0)
        return rc;
    return mail_on_mentions(c, x->update_id);
}

static int h_comment_post(struct req *r, struct resp *o)
{
    struct db_update u;
    struct db_comment m;
    const char *text;
    json_t *body;
    double at;
    int st, rc;
    int64_t cid;

    if ((st = load_update(r, o, &u)))
        return st;
    db_update_free(&u);
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_str_field(body, "body", 1, 5000, &text, o)) || (st = at_seconds(body, &at, o))) {
        json_decref(body);
        return st;
    }
    {
        struct comment_ctx x = { .conf = r->conf, .update_id = u.id, .user_id = r->user.id, .body = text };
        rc = db_comment_add(r->cat, u.id, r->user.id, at, text, (int64_t)hc_now(), comment_mail, &x, &cid);
    }
    json_decref(body);
    if (rc == DB_CONSTRAINT)
        return http_error(o, 404, "not_found", "there is no such update");
    if (rc < 0)
        return api_db_fail(o, rc, "saving the comment");
    if ((rc = db_comment_get(r->cat, cid, &m)) != DB_OK)
        return api_db_fail(o, rc < 0 ? rc : DB_ERROR, "reading the comment");
    st = http_json(o, 201, json_pack("{s:o}", "comment", comment_json(&m)));
    db_comment_free(&m);
    return st;
}

/* Delete a comment or reaction of one's own (admins: anyone's). */
static int delete_own(struct req *r, struct resp *o, int (*owner)(struct catalog *, int64_t, int64_t *),
                      int (*del)(struct catalog *, int64_t), const char *what)
{
    int64_t id, uid;
    int rc;

    if (api_parse_id(r->match.params[0], &id) < 0)
        return http_error(o, 404, "not_found", "there is no such %s", what);
    rc = owner(r->cat, id, &uid);
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no such %s", what);
    if (rc < 0)
        return api_db_fail(o, rc, "reading what to delete");
    if (uid != r->user.id && !is_admin(r))
        return http_error(o, 403, "forbidden", "you can only delete your own %s", what);
    rc = del(r->cat, id);
    if (rc == DB_NOTFOUND)
        return http_error(o, 404, "not_found", "there is no such %s", what);
    if (rc < 0)
        return api_db_fail(o, rc, "deleting");
    return http_json(o, 200, json_pack("{s:b}", "deleted", 1));
}

static int h_comment_delete(struct req *r, struct resp *o)
{
    return delete_own(r, o, db_comment_owner, db_comment_delete, "comment");
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
    struct db_update u;
    struct db_reaction *list;
    size_t n;
    json_t *arr;
    int st, rc;

    if ((st = load_update(r, o, &u)))
        return st;
    db_update_free(&u);
    if ((rc = db_reaction_list(r->cat, u.id, &list, &n)) < 0)
        return api_db_fail(o, rc, "reading the reactions");
    arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, reaction_json(&list[i]));
    free(list);
    return http_json(o, 200, json_pack("{s:o}", "reactions", arr));
}

static int h_reaction_post(struct req *r, struct resp *o)
{
    struct db_update u;
    struct db_reaction x;
    const char *emoji;
    json_t *body;
    double at;
    int st, rc, created;

    if ((st = load_update(r, o, &u)))
        return st;
    db_update_free(&u);
    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_str_field(body, "emoji", 1, 32, &emoji, o)) || (st = at_seconds(body, &at, o))) {
        json_decref(body);
        return st;
    }
    if (!emoji_ok(emoji)) {
        json_decref(body);
        return http_error(o, 400, "bad_field", "emoji must be an emoji");
    }
    rc = db_reaction_add(r->cat, u.id, r->user.id, emoji, at, (int64_t)hc_now(), &x, &created);
    json_decref(body);
    if (rc == DB_CONSTRAINT)
        return http_error(o, 404, "not_found", "there is no such update");
    if (rc < 0)
        return api_db_fail(o, rc, "saving the reaction");
    return http_json(o, created ? 201 : 200, json_pack("{s:o}", "reaction", reaction_json(&x)));
}

static int h_reaction_delete(struct req *r, struct resp *o)
{
    return delete_own(r, o, db_reaction_owner, db_reaction_delete, "reaction");
}

/* ---- check-in prompts ---- */

#define MAX_PROMPTS 10

/* The prompts, as a JSON array: the setting, or the defaults while it is
 * unset (or unreadable as a list of strings). DB_OK with *out, or a
 * negative db_rc. */
static int prompts_get(struct catalog *c, json_t **out)
{
    char *v = NULL;
    int rc = db_setting_get(c, "checkin_prompts", &v);
    json_t *j = NULL;

    *out = NULL;
    if (rc < 0)
        return rc;
    if (rc == DB_OK)
        j = json_loads(v, 0, NULL);
    free(v);
    if (!json_is_array(j)) {
        json_decref(j);
        j = json_pack("[s,s,s]", "What I did", "What I learned", "Where I'm going");
    }
    *out = j;
    return DB_OK;
}

/* GET /api/prompts: {prompts: [...]}, the check-in prompts shown while
 * recording. */
static int h_prompts(struct req *r, struct resp *o)
{
    json_t *p;
    int rc = prompts_get(r->cat, &p);

    if (rc < 0)
        return api_db_fail(o, rc, "reading the prompts");
    return http_json(o, 200, json_pack("{s:o}", "prompts", p));
}

/* PUT /api/prompts {prompts: [...]} (admins): at most MAX_PROMPTS, each 1
 * to 200 bytes on one line. */
static int h_prompts_put(struct req *r, struct resp *o)
{
    static const char *const keys[] = { "prompts", NULL };
    json_t *body, *arr, *x;
    char *text;
    size_t i;
    int st, rc;

    if (!(body = http_body_json(r, o)))
        return o->status;
    if ((st = api_only_keys(body, keys, o))) {
        json_decref(body);
        return st;
    }
    arr = json_object_get(body, "prompts");
    st = !json_is_array(arr) || json_array_size(arr) > MAX_PROMPTS;
    json_array_foreach(arr, i, x) {
        const char *v = json_string_value(x);
        if (!v || !*v || json_string_length(x) > 200 || strlen(v) != json_string_length(x))
            st = 1;
        for (; v && *v; v++)
            if ((unsigned char)*v < 0x20)
                st = 1;
    }
    if (st) {
        json_decref(body);
        return http_error(o, 400, "bad_field", "prompts must be a list of at most %d texts of 1 to 200 bytes, "
                          "one line each", MAX_PROMPTS);
    }
    text = json_dumps(arr, JSON_COMPACT);
    json_decref(body);
    rc = db_setting_set(r->cat, "checkin_prompts", text);
    free(text);
    if (rc < 0)
        return api_db_fail(o, rc, "saving the prompts");
    return h_prompts(r, o);
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
    { "GET",    "/api/prompts",                  h_prompts,         ROLE_MEMBER, 0, NULL },
    { "PUT",    "/api/prompts",                  h_prompts_put,     ROLE_ADMIN,  0, NULL },
};
const size_t update_nroutes = HC_ARRAY_LEN(update_routes);
