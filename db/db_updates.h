/*
 * db_updates.h - the data layer for updates and their transcode jobs: the
 * one visibility rule, reads for the API, edits, deletion, renditions, and
 * the whole update/job lifecycle as functions that are each one
 * transaction. Typed functions returning enum db_rc (catalog.h); no caller
 * outside db/ sees SQL. Not here: uploads in progress (db_uploads.h) and
 * views, comments, reactions (db_social.h).
 *
 * The lifecycle. An update has one `ladder` job and, when first-playable
 * is on, one `first` job (one quick rendition in media/<id>/first/, made
 * as the bytes arrive). An upload that ends in one go (one request, tus
 * with a known length) becomes an update `queued`, published, with both
 * jobs. A deferred-length upload (the recorder) becomes an update at its
 * creation, `uploading`, unpublished (its author alone sees it), with its
 * first job; its end publishes it and queues the ladder (db_uploads.h):
 *
 *   update:  (none) -> uploading -> queued          (live upload, its end)
 *            (none) -> queued                       (upload in one go)
 *            queued -> processing -> ready | failed ;  any -> (deleted)
 *            uploading -> failed                    (live upload expired)
 *            uploading -> (deleted)                 (live upload terminated)
 *   job:     queued -> running -> done | failed | queued (handed back)
 *            queued | running -> dropped (its update was deleted)
 *            running (lease ran out) -> running (claimed again, attempt+1)
 *            running (attempts used up) -> failed
 *
 * The status is the ladder's: a first job never changes it (a failed first pass
 * leaves the ladder to do the work): claiming it resets the update's
 * first rendition (not playable), its progress marks it playable. First
 * jobs are claimed before ladder jobs, and no ladder job is claimed while
 * a first job is still queued (a burst gets every first pass under way
 * before any ladder); ladders then go in their fair order.
 *
 * A function asked for a transition that the current state does not allow
 * changes nothing and returns DB_INVALID.
 */
#ifndef HUBCAST_DB_UPDATES_H
#define HUBCAST_DB_UPDATES_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "db_habit.h"

#define DB_NONCE_SIZE 33        /* 32 hex digits and the NUL */
#define DB_PATH_SIZE  1100      /* a stored file path (DATA is at most 1024) */

/* Who is asking, for the visibility rule. */
struct db_viewer {
    int64_t user_id;            /* the signed-in person */
    int     admin;              /* 1 for administrators: they see everything */
};

/* One update as the API shows it (with author and progress). */
struct db_update {
    int64_t id;
    int64_t author_id;
    char    author_name[256];
    char    author_email[256];
    char    author_title[256];
    char    author_team[256];
    char    author_avatar[64];  /* the author's picture file (DB_AVATAR_MAX), "" when none */
    char    kind[16];           /* "weekly" or "allhands" */
    char    iso_week[16];       /* "2026-W48", in the author's time zone */
    char    title[256];
    char   *description;        /* malloc'd; free with db_update_free */
    char    status[16];         /* "queued", "processing", "ready", "failed" */
    char    error[512];         /* why it failed, for the uploader; "" otherwise */
    double  duration;           /* seconds; 0 until ready */
    int     has_duration;       /* duration is known */
    int     width, height;      /* of the source, 0 until ready */
    int64_t created_at;
    int64_t updated_at;
    int64_t ready_at;           /* 0 until ready */
    char    nonce[DB_NONCE_SIZE]; /* random, named by signed media links */
    double  progress;           /* 0..100 of the latest ladder job */
    double  eta;                /* seconds left of the latest ladder job, < 0 unknown */
    int     playable;           /* ready, or its first rendition lists a segment */
    int     first_slow;         /* its first pass runs, slower than real time */
    double  first_eta;          /* seconds that pass has left, < 0 unknown */
    int     published;          /* others may see it (its upload ended) */
    int64_t views_count;        /* people who watched, the author not counted */
    int64_t comments_count;
};
void db_update_free(struct db_update *u);
/* Free an array of n updates and the array; *list becomes NULL. */
void db_update_list_free(struct db_update **list, size_t n);

/*
 * The one visibility rule: a member sees an update when it is ready, or
 * when it is published and playable (queued or processing with a first
 * rendition that lists a segment), and always their own; an administrator
 * sees every update but a recording still uploading (unpublished). Lists,
 * GET by id, the week, views, comments and reactions all go through it.
 */

/* DB_OK with *out filled (free with db_update_free), DB_NOTFOUND when
 * there is no such update or v may not see it, or a negative db_rc. */
int db_update_get(struct catalog *c, const struct db_viewer *v, int64_t id, struct db_update *out);

/* Optional filters of a list; NULL / 0 means "any". */
struct db_update_filter {
    const char *week;           /* "2026-W48" */
    int64_t     author_id;
    const char *kind;           /* "weekly" or "allhands" */
    const char *status;         /* narrows what v may see, never widens it */
    long        limit;          /* < 0: no limit */
    long        offset;
};
/* db_update_get for n updates in one statement: out[i] (free each with
 * db_update_free) and found[i] = 1 for ids[i] when v may see it, else
 * found[i] = 0 (out[i] empty). DB_OK or a negative db_rc (nothing found). */
int db_update_gets(struct catalog *c, const struct db_viewer *v, const int64_t *ids, size_t n,
                   struct db_update *out, int *found);
/*
 * The updates v may see that match f: all-hands first, then newest first.
 * DB_OK with *out (an array of *n, free with db_update_list_free) and
 * *total (the count without limit/offset; total may be NULL), or a
 * negative db_rc with *out NULL.
 */
int db_update_list(struct catalog *c, const struct db_viewer *v, const struct db_update_filter *f,
                   struct db_update **out, size_t *n, int64_t *total);

/* Active people who have (posted != 0) or have not (posted == 0) posted in
 * week, by name, whenever they joined: db_habit_week_people with no end of
 * week (the "posted" rule is db_habit.h's). DB_OK with *out (free()) and
 * *n, or a negative db_rc. */
int db_update_week_people(struct catalog *c, const char *week, int posted,
                          struct db_week_person **out, size_t *n);

/* What /media needs: DB_OK with nonce filled when the update exists and
 * is ready (its media are published), DB_NOTFOUND otherwise, or a negative
 * db_rc. */
int db_update_media(struct catalog *c, int64_t id, char nonce[DB_NONCE_SIZE]);
/* The same for files of its first rendition (media/<id>/first/): DB_OK
 * when the update is ready, or not failed and its first rendition lists a
 * segment, and v (NULL: the holder of a signed link) may see it (the
 * visibility rule); DB_NOTFOUND otherwise, or a negative db_rc. */
int db_update_media_first(struct catalog *c, const struct db_viewer *v, int64_t id,
                          char nonce[DB_NONCE_SIZE]);
/* The nonce of an update in any state: DB_OK, DB_NOTFOUND or negative. */
int db_update_nonce(struct catalog *c, int64_t id, char nonce[DB_NONCE_SIZE]);

/* Change the title and/or the description (NULL leaves one as is), in one
 * transaction. DB_OK, DB_NOTFOUND, or a negative db_rc (nothing changed). */
int db_update_edit(struct catalog *c, int64_t id, const char *title, const char *description, int64_t now);

/* One short text answer to a check-in prompt. */
struct db_answer {
    char prompt[256];           /* the prompt as it read when answered */
    char text[1024];            /* the answer (the API takes up to 1000 bytes) */
};
/* The answers of an update, in the order given. DB_OK with *out (free();
 * NULL when *n is 0), or a negative db_rc. */
int db_update_answers(struct catalog *c, int64_t update_id, struct db_answer **out, size_t *n);
/* An answer of one of several updates. */
struct db_answer_of {
    size_t           i;         /* the update's index in the ids asked for */
    struct db_answer a;
};
/* The answers of n updates in one statement (a page of a list, a digest):
 * grouped by update in the order of ids, each update's in the order
 * given. DB_OK with *out (free(); NULL when *nout is 0), or a negative db_rc. */
int db_update_answers_of(struct catalog *c, const int64_t *ids, size_t n, struct db_answer_of **out,
                         size_t *nout);

/* A change of an update (PATCH): NULL leaves a field as it is. */
struct db_update_change {
    const char *title;
    const char *description;
    const char *kind;           /* "weekly" or "allhands" */
    int         priority;       /* with kind: its jobs' priority from now on */
    int         set_answers;    /* replace the answers with answers[0..nanswers) */
    const struct db_answer *answers;
    size_t      nanswers;
    int64_t     now;
};
/*
 * Apply ch to update id and then run after(c, id, arg) (when not NULL)
 * inside the same transaction (the mails the change causes; < 0 aborts
 * all). A new kind also moves the update's waiting or running jobs to
 * ch->priority. DB_OK, DB_NOTFOUND, or a negative db_rc (nothing changed).
 */
int db_update_change(struct catalog *c, int64_t id, const struct db_update_change *ch,
                     int (*after)(struct catalog *c, int64_t id, void *arg), void *arg);

/* A mention of someone (kudos) as their person page lists it. */
struct db_kudos {
    int64_t update_id;
    char    title[256];         /* of the update */
    char    kind[16];           /* of the update */
    int64_t comment_id;         /* 0: in the update's description or answers */
    int64_t by_id;              /* who wrote it */
    char    by_name[256];
    char    excerpt[512];       /* the words around the mention */
    int64_t created_at;
};
/* The mentions of person user_id in updates v may see (the visibility
 * rule), newest first, at most 200. DB_OK with *out (free(); NULL when *n
 * is 0), or a negative db_rc. */
int db_update_kudos(struct catalog *c, const struct db_viewer *v, int64_t user_id,
                    struct db_kudos **out, size_t *n);

/*
 * Delete an update in any state, with its renditions, views, comments,
 * reactions and upload record, in one transaction; its jobs stay, with no
 * update (a worker on it loses its claim at the next heartbeat; a queued
 * one is dropped). DB_OK with *inputs (the jobs' input files, for the
 * caller to remove: an array of *n malloc'd strings, free with
 * db_strings_free), DB_NOTFOUND, or a negative db_rc (nothing deleted).
 */
int db_update_delete(struct catalog *c, int64_t id, char ***inputs, size_t *n);
void db_strings_free(char ***list, size_t n);

/* A new update and its job (see db_update_insert_queued). */
struct db_update_new {
    int64_t     author_id;
    const char *kind;           /* "weekly" or "allhands" */
    const char *iso_week;       /* of now, in the author's time zone */
    const char *title;
    const char *description;    /* NULL for "" */
    const char *input_path;     /* the stored upload, read by the worker */
    int         priority;       /* higher is claimed first */
    int64_t     now;
    const struct db_answer *answers;   /* its check-in answers, in order (NULL: none) */
    size_t      nanswers;
    int         first;          /* 1: also a first job (first-playable on) */
    const char *upload_id;      /* db_update_insert_live: the live upload */
};
/*
 * (none) -> update queued and published (with its answers) + its first job
 * (when in->first) + its ladder job. Only inside the caller's transaction
 * (db_upload_finish, db_upload_oneshot): DB_OK with *id, or a negative
 * db_rc.
 */
int db_update_insert_queued(struct catalog *c, const struct db_update_new *in, int64_t *id);
/* Store update id's check-in answers a[0..n) in that order. Only inside
 * the caller's transaction: DB_OK or a negative db_rc. */
int db_update_answers_add(struct catalog *c, int64_t id, const struct db_answer *a, size_t n);
/*
 * (none) -> update uploading, unpublished, fed by the live upload
 * in->upload_id + its first job (no ladder job yet). Only inside the
 * caller's transaction (db_upload_create_live): DB_OK with *id, or a
 * negative db_rc.
 */
int db_update_insert_live(struct catalog *c, const struct db_update_new *in, int64_t *id);

/* ---- renditions ---- */

/* One rung of the published ladder. */
struct db_rendition {
    char name[32];              /* folder and label, e.g. "720p" */
    int  width, height;
    int  bandwidth;             /* peak bits per second, as in the playlist */
    int  avg_bandwidth;
    char codecs[64];            /* RFC 6381, e.g. "avc1.64001f,mp4a.40.2" */
};
/* The renditions of an update, tallest first. DB_OK with *out (free())
 * and *n (0 if none), or a negative db_rc. */
int db_rendition_list(struct catalog *c, int64_t update_id, struct db_rendition **out, size_t *n);
/* A rendition of one of several updates. */
struct db_rendition_of {
    size_t               i;     /* the update's index in the ids asked for */
    struct db_rendition  r;
};
/* The renditions of n updates in one statement (a page of a list): grouped
 * by update in the order of ids, each update's tallest first. DB_OK with
 * *out (free(); NULL when *nout is 0), or a negative db_rc. */
int db_rendition_lists(struct catalog *c, const int64_t *ids, size_t n, struct db_rendition_of **out,
                       size_t *nout);

/* ---- jobs ---- */

/* Which jobs a worker takes. */
enum db_lane {
    DB_LANE_ANY = 0,            /* first jobs, then ladder jobs */
    DB_LANE_FIRST,              /* first jobs only */
    DB_LANE_LADDER              /* ladder jobs only */
};

/* A claimed job, as the worker needs it. */
struct db_job {
    int64_t id;
    int64_t update_id;
    char    input_path[DB_PATH_SIZE];
    int     attempts;           /* including this one */
    int     first;              /* 1: a first job, 0: a ladder job */
};

/*
 * Claim the next job for worker_id, in one transaction per job looked at:
 * job queued, or running with its lease run out -> running (attempts + 1,
 * lease until now + lease), update -> processing (one being trimmed
 * again stays ready: db_trim.h). Order: priority first (all-hands), then fair turns (a job's place is the number of its
 * author's jobs already waiting when it was queued), then age.
 * On the way, a job whose update was deleted -> dropped, and one that has
 * used max_attempts -> failed with `exhausted` as the reason (its update
 * too). DB_OK with *out, DB_NOTFOUND when nothing is waiting, or a
 * negative db_rc (nothing claimed).
 *
 * On PostgreSQL claims run side by side (FOR UPDATE ... SKIP LOCKED): a
 * job or update that another transaction holds (another claim, an edit)
 * is passed over, never waited for, so two workers claiming at once get
 * different jobs; jobs of deleted updates are dropped first, in a
 * statement of their own. A ladder claim beside a first job's claim not
 * yet committed sees that first job still queued and answers DB_NOTFOUND
 * (the worker looks again at its next poll). On SQLite claims take
 * turns on the one write lock.
 */
int db_job_claim(struct catalog *c, const char *worker_id, int64_t now, int lease, int max_attempts,
                 const char *exhausted, struct db_job *out);
/* db_job_claim in one lane (see enum db_lane; db_job_claim is
 * DB_LANE_ANY). A first job: its update's status is left as it is and
 * its first rendition reset (not playable); used up, only the job fails. */
int db_job_claim_lane(struct catalog *c, enum db_lane lane, const char *worker_id, int64_t now, int lease,
                      int max_attempts, const char *exhausted, struct db_job *out);

/* What a first job reads, as db_job_first_input says. */
enum db_input_state {
    DB_INPUT_GROWING = 0,       /* the upload is still arriving */
    DB_INPUT_FINISHED,          /* complete (at *offset, or the file's size when -1) */
    DB_INPUT_GONE               /* terminated, expired or deleted: stop */
};
/* The input of job job_id: DB_OK with *state and *offset (bytes confirmed
 * on disk; -1: the whole file), or a negative db_rc. A read, no change. */
int db_job_first_input(struct catalog *c, int64_t job_id, int64_t *offset, enum db_input_state *state);

/* A running first job (worker_id's) listed `segments` video segments:
 * its update's first rendition is playable from now on (first_ready_at
 * set once). DB_OK, DB_INVALID (not worker_id's running job, or its update
 * was deleted: stop), or a negative db_rc. */
int db_job_first_progress(struct catalog *c, int64_t job_id, const char *worker_id, int segments, int64_t now);

/* A running first job (worker_id's) is slower than real time (slow = 1:
 * expected from its source or measured), or no longer (0). The update
 * then shows it (first_slow), with the job's eta as playable_eta. DB_OK,
 * DB_INVALID (not worker_id's running first job), or a negative db_rc. */
int db_job_first_slow(struct catalog *c, int64_t job_id, const char *worker_id, int slow, int64_t now);

/* running (worker_id's) -> dropped when its update was deleted (its
 * worker stops it). DB_OK, DB_INVALID (not worker_id's running job, or
 * its update still exists), or a negative db_rc. */
int db_job_drop(struct catalog *c, int64_t job_id, const char *worker_id, int64_t now);

/* Whether update id's first job is still under way (queued or running):
 * DB_OK with *busy 1 or 0 (0 also when it has none), or a negative db_rc.
 * A ladder waits for a first pass that copies (worker.c). */
int db_update_first_busy(struct catalog *c, int64_t id, int *busy);

/* running first job (worker_id's) -> done, its rendition complete with
 * `segments` segments. DB_OK; DB_NOTFOUND when its update was deleted
 * (the job -> dropped; the folder is the caller's to remove); DB_INVALID
 * when it is not worker_id's running job; or a negative db_rc. */
int db_job_first_done(struct catalog *c, int64_t job_id, const char *worker_id, int segments, int64_t now);

/*
 * Heartbeat of a running job: progress (0..100), eta (seconds, < 0 for
 * unknown) and a lease until now + lease. DB_OK; DB_INVALID when the job
 * is no longer worker_id's running job or its update was deleted (stop
 * work); or a negative db_rc (the catalog could not be reached: not a
 * reason to stop).
 */
int db_job_heartbeat(struct catalog *c, int64_t job_id, const char *worker_id, double progress,
                     double eta, int64_t now, int lease);

/* running (worker_id's) -> queued, the attempt given back (the worker is
 * stopping). DB_OK, DB_INVALID if it is not worker_id's running job, or a
 * negative db_rc. */
int db_job_release(struct catalog *c, int64_t job_id, const char *worker_id, int64_t now);

/* running (worker_id's) -> queued with the attempt spent (its job child
 * died: the next claim retries it, at most max_attempts in all). DB_OK,
 * DB_INVALID if it is not worker_id's running job, or a negative db_rc. */
int db_job_requeue(struct catalog *c, int64_t job_id, const char *worker_id, int64_t now);

/* running (worker_id's) -> failed, and its update processing -> failed
 * with reason; for a first job, the update only loses its first rendition
 * (not playable; the ladder still runs). DB_OK, DB_INVALID (not
 * worker_id's running job: nothing changed), or a negative db_rc. */
int db_job_fail(struct catalog *c, int64_t job_id, const char *worker_id, const char *reason, int64_t now);

/* What a finished transcode produced. */
struct db_ready {
    double duration;
    int    width, height;
    const struct db_rendition *rungs;
    size_t nrungs;
    int64_t now;
};
/*
 * running (worker_id's) -> done and its update processing -> ready with
 * its renditions (every insert checked), then on_ready(c, update_id, arg)
 * inside the same transaction (the mail notifications; < 0 aborts all).
 * DB_OK; DB_NOTFOUND when the update was deleted (the job -> dropped, so
 * the output is the caller's to remove); DB_INVALID when the job is not
 * worker_id's running job any more (nothing changed); or a negative db_rc
 * (nothing changed: keep the output and report again).
 */
int db_job_finish(struct catalog *c, int64_t job_id, const char *worker_id, const struct db_ready *r,
                  int (*on_ready)(struct catalog *c, int64_t update_id, void *arg), void *arg);

/* For the db/ modules that finish jobs (db_job_finish, db_job_first_done,
 * db_job_finish_media in db_trim.c), inside the caller's transaction:
 * replace update_id's renditions with r's rungs: DB_OK or a negative
 * db_rc (the caller rolls back). */
int db_job_put_renditions(struct catalog *c, int64_t update_id, const struct db_ready *r);
/* running -> dropped (its update was deleted, or wants a newer version),
 * then commit: DB_NOTFOUND (the output is the caller's to remove), or a
 * negative db_rc (rolled back). */
int db_job_drop_commit(struct catalog *c, int64_t job_id, int64_t now);

/* ---- used by /metrics ---- */

/* How many transcode jobs are in state ("queued", "running", "done",
 * "failed", "dropped"). DB_OK with *n, or a negative db_rc. */
int db_job_count_state(struct catalog *c, const char *state, int64_t *n);
/* How many jobs of kind ("first" or "ladder") are in state. DB_OK with
 * *n, or a negative db_rc. */
int db_job_count_kind(struct catalog *c, const char *kind, const char *state, int64_t *n);

/* ---- downloads ---- */

/* The stored source file of update id (what its latest transcode job
 * read; kept until the update is deleted) into path: DB_OK, DB_NOTFOUND
 * (no such update, or no job), or a negative db_rc. Who may have it is
 * the caller's decision (its author and administrators). */
int db_update_source(struct catalog *c, int64_t id, char path[DB_PATH_SIZE]);

#endif
