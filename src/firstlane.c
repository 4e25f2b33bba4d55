/*
 * firstlane.c - the first lane of `hubcast worker --lane first`: up to
 * conf->first_jobs first-playable passes at once, each in a job child of
 * its own (jobchild.h, confined exactly like a ladder child), so that a
 * burst of uploads all become playable before any ladder is encoded. The
 * lane keeps the catalog for its children: it claims first jobs, tells
 * each child how far its upload is confirmed on disk (JC_INPUT, from the
 * catalog, final once the upload ended), records the segments the child
 * lists (the update becomes playable) and heartbeats every lease. A
 * child's rendition is written straight into DATA/media/<id>/first/, the
 * folder players read while it grows; a pass that fails or is abandoned
 * removes it. Passes that encode (not copy) may take turns: a child that
 * chose to encode says so (JC_ENCODE) and waits for JC_GO, given to at
 * most conf->first_encodes of them at once, oldest first (0, the default:
 * to all at once). Two at a time finish two by two, each faster than real
 * time, where eight sharing two cores end late together; but the others
 * then have no segment at all until a turn comes, so the default lets
 * every recording become playable first (bench/README.md). Copies (remux)
 * never wait: they cost little. A pass that encodes slower than real
 * time (a 4K source, expected from its size and rate, then measured by
 * its pace) says so (JC_SLOW); the lane records it on the job, and the
 * update shows it with the eta the pass measured. Not for ladder jobs
 * (worker.c).
 *
 * With an S3 media store (store.h) a pass cannot follow an upload still
 * growing in the store: its slot holds the claim (heartbeating) until the
 * upload is complete, then downloads the source and starts. The child
 * writes into DATA/media/<id>/first/ of this worker's folder (scratch),
 * and after each segment the lane uploads what is new under
 * media/<id>/first/ (segments, then the playlists, the master last)
 * before it tells the catalog; the local folder goes once the pass ends.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "conf.h"
#include "db_updates.h"
#include "jobchild.h"
#include "layout.h"
#include "sandbox.h"
#include "store.h"
#include "util.h"
#include "worker.h"

#define FIRST_MAX_JOBS 64

/* One first-playable pass in progress. */
struct slot {
    int64_t job_id;             /* 0: the slot is free */
    int64_t update_id;
    struct jc_child child;
    int     in_fd;              /* the upload, for its size when complete */
    char    dir[LAYOUT_PATH_MAX + 8]; /* DATA/media/<id>/first */
    int64_t sent;               /* offset of the last JC_INPUT, -1 none */
    int     final_sent;         /* JC_INPUT with final sent */
    int     segments;           /* listed, as last reported */
    int     playable;           /* the child wrote the master playlist */
    double  pct, eta;           /* last progress report (eta: at the pace
                                   the child measured) */
    int     slow;               /* the child says it is slower than real time */
    int     slow_saved;         /* what the catalog says of it */
    int     encode;             /* 0: copy or not said yet; 1: encodes and
                                   waits for its turn; 2: encoding */
    int     waited;             /* it had to wait for its turn */
    uint64_t asked;             /* order of its JC_ENCODE, oldest first */
    double  last_beat;          /* monotonic */
    double  deadline;           /* monotonic */
    /* S3 media store only: */
    int     waiting;            /* claimed; the child starts once the upload is complete */
    double  next_look;          /* monotonic: when to ask the catalog again */
    int     attempts;           /* of the job, this one included */
    char    input[DB_PATH_SIZE];/* the catalog's input path (names the upload) */
    struct store_sync sync;     /* what of dir is in the store */
    int     marked;             /* first/.encoding is in the store */
};

struct lane {
    const struct conf *conf;
    struct catalog *cat;
    const char *worker_id;
    struct slot slots[FIRST_MAX_JOBS];
    int nslots;
    int max_encodes;            /* passes encoding at once, 0 = no cap */
    uint64_t asks;              /* JC_ENCODE messages so far */
};

/* Remove a pass's folder (its files belong to the job user), and in an
 * S3 media store what of it was uploaded. */
static void drop_folder(struct slot *s)
{
    sandbox_give_back(s->dir);
    hc_rmtree(s->dir);
    if (store_is_s3() && (s->sync.n > 0 || s->marked)) {
        store_delete_media(s->update_id, LAYOUT_FIRST_DIR);
        store_sync_free(&s->sync);
        s->marked = 0;
    }
}

/* S3 media store: upload what the pass has written so far. 0 or -1. */
static int upload_pass(struct slot *s)
{
    if (!store_is_s3())
        return 0;
    if (store_sync_dir(&s->sync, s->dir) < 0) {
        hc_log("first lane: job %lld: its rendition cannot be uploaded to the media store now",
               (long long)s->job_id);
        return -1;
    }
    return 0;
}

/* S3 media store: the pass is published; its local folder goes (and
 * DATA/media/<id> when nothing else is in it). */
static void drop_scratch(struct slot *s)
{
    char *slash;

    if (!store_is_s3())
        return;
    hc_rmtree(s->dir);
    if ((slash = strrchr(s->dir, '/'))) {
        *slash = '\0';
        rmdir(s->dir);
        *slash = '/';
    }
}

/* The slot is free again; its child is reaped (killed when kill_it). */
static int slot_end(struct slot *s, int kill_it)
{
    int status = jc_finish(&s->child, kill_it);

    if (s->in_fd >= 0)
        close(s->in_fd);
    s->in_fd = -1;
    s->job_id = 0;
    return status;
}

/* Start the job child of slot s (its job claimed, its upload complete
 * or followed on disk). 0, or -1 with the job handed back or failed and
 * the slot free again. */
static int slot_launch(struct lane *l, struct slot *s)
{
    char media[LAYOUT_PATH_MAX];
    struct jc_spec spec;
    int work_fd = -1, rc;
    int64_t now = (int64_t)hc_now(), job = s->job_id;

    s->job_id = 0;
    s->waiting = 0;
    if (layout_update_media(l->conf->data_dir, s->update_id, media, sizeof(media)) < 0)
        return -1;
    memset(&spec, 0, sizeof(spec));
    if (sandbox_job_user(&spec.uid, &spec.gid) < 0) {
        hc_log("first lane: there is no user `nobody` to run jobs as");
        db_job_release(l->cat, job, l->worker_id, now);
        return -1;
    }
    if ((rc = worker_open_source(l->conf, s->update_id, s->input, &s->in_fd)) != 0) {
        s->in_fd = -1;
        if (rc < 0)     /* the media store failed: not the video's fault */
            db_job_release(l->cat, job, l->worker_id, now);
        else
            db_job_fail(l->cat, job, l->worker_id, "the stored file cannot be opened", now);
        return -1;
    }
    /* An earlier attempt's folder (a worker that died) is ours to redo. */
    drop_folder(s);
    if (store_is_s3() && s->attempts > 1)
        store_delete_media(s->update_id, LAYOUT_FIRST_DIR);
    if (hc_mkdirs(media, 0755) < 0 || mkdir(s->dir, 0755) < 0 ||
        (work_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        (spec.uid != (uid_t)-1 && fchown(work_fd, spec.uid, spec.gid) < 0)) {
        hc_log("first lane: job %lld: cannot create %s: %s", (long long)job, s->dir, strerror(errno));
        if (work_fd >= 0)
            close(work_fd);
        close(s->in_fd);
        s->in_fd = -1;
        db_job_fail(l->cat, job, l->worker_id, "cannot create the output folder", now);
        return -1;
    }
    spec.kind = JC_KIND_FIRST;
    spec.no_network = store_is_s3();
    spec.in_fd = s->in_fd;
    spec.work_fd = work_fd;
    spec.preset = l->conf->preset;
    spec.crf = l->conf->crf;
    /* Many passes at once: one encoder thread each. A pass alone may have
     * the cores: an uploaded file's ladder may be waiting for it (worker.c). */
    spec.threads = 0;
    for (int i = 0; i < l->nslots; i++)
        if (l->slots[i].job_id)
            spec.threads = 1;
    spec.max_duration = l->conf->max_duration;
    spec.deadline = l->conf->job_deadline;
    spec.test_clock = l->conf->test_clock;
    rc = jc_start(&spec, &s->child);
    close(work_fd);
    if (rc < 0) {
        hc_log("first lane: job %lld: cannot start a job child: %s", (long long)job, strerror(-rc));
        close(s->in_fd);
        s->in_fd = -1;
        drop_folder(s);
        db_job_release(l->cat, job, l->worker_id, now);
        return -1;
    }
    s->job_id = job;
    s->last_beat = hc_monotonic();
    s->deadline = hc_monotonic() + l->conf->job_deadline + 10;
    hc_log("first lane: job %lld: first rendition of update %lld", (long long)job, (long long)s->update_id);
    return 0;
}

/* Take claimed job j into slot s: its child starts now, or with an S3
 * media store once its upload is complete (the slot waits, holding the
 * claim). 0, or -1 with the job handed back or failed (the slot free). */
static int slot_start(struct lane *l, struct slot *s, const struct db_job *j)
{
    char media[LAYOUT_PATH_MAX];

    store_sync_free(&s->sync);
    memset(s, 0, sizeof(*s));
    s->in_fd = -1;
    s->child.sock = -1;
    s->sent = -1;
    s->pct = 0;
    s->eta = -1;
    s->update_id = j->update_id;
    s->attempts = j->attempts;
    hc_strlcpy(s->input, j->input_path, sizeof(s->input));
    if (layout_update_media(l->conf->data_dir, j->update_id, media, sizeof(media)) < 0) {
        db_job_release(l->cat, j->id, l->worker_id, (int64_t)hc_now());
        return -1;
    }
    snprintf(s->dir, sizeof(s->dir), "%s/" LAYOUT_FIRST_DIR, media);
    s->job_id = j->id;
    if (store_is_s3()) {
        store_sync_init(&s->sync, j->update_id, LAYOUT_FIRST_DIR);
        s->waiting = 1;
        s->last_beat = hc_monotonic();
        hc_log("first lane: job %lld: update %lld, waiting for its upload to be complete in the store",
               (long long)j->id, (long long)j->update_id);
        return 0;
    }
    return slot_launch(l, s);
}

/* S3 media store: a slot waiting for its upload. Starts the child once
 * the upload is complete; 1 when the upload is gone (stop the pass). */
static int slot_wait(struct lane *l, struct slot *s)
{
    enum db_input_state st;
    int64_t offset;

    /* A recording may take minutes: ask four times a second, not at every tick. */
    if (hc_monotonic() < s->next_look)
        return 0;
    s->next_look = hc_monotonic() + 0.25;
    if (db_job_first_input(l->cat, s->job_id, &offset, &st) < 0)
        return 0;       /* the catalog will answer at the next look */
    if (st == DB_INPUT_GONE)
        return 1;
    if (st == DB_INPUT_FINISHED)
        slot_launch(l, s);
    return 0;
}

/* Tell the child how far it may read, from the catalog. 0, or 1 when the
 * upload is gone (stop the pass). */
static int feed(struct lane *l, struct slot *s)
{
    enum db_input_state st;
    int64_t offset;
    struct jc_msg m;
    struct stat sb;

    if (s->final_sent)
        return 0;
    if (db_job_first_input(l->cat, s->job_id, &offset, &st) < 0)
        return 0;       /* the catalog will answer at the next tick */
    if (st == DB_INPUT_GONE)
        return 1;
    if (offset < 0)
        offset = fstat(s->in_fd, &sb) == 0 ? (int64_t)sb.st_size : 0;
    if (offset <= s->sent && st != DB_INPUT_FINISHED)
        return 0;
    memset(&m, 0, sizeof(m));
    m.version = JC_VERSION;
    m.type = JC_INPUT;
    m.offset = offset;
    m.final = st == DB_INPUT_FINISHED;
    if (jc_send(s->child.sock, &m) == 0) {
        s->sent = offset;
        s->final_sent = m.final;
    }
    return 0;
}

/* The pass is over without a rendition: the update loses its first
 * folder; the job fails with reason, or goes back to the queue with an
 * attempt spent (reason NULL: its child died), or is simply no longer
 * ours (lost). */
static void slot_abandon(struct lane *l, struct slot *s, const char *reason, int lost)
{
    int64_t now = (int64_t)hc_now(), job = s->job_id;
    int rc;

    slot_end(s, 1);
    drop_folder(s);
    if (lost) {
        /* Its update deleted (a retake): the job is dropped, not left
         * running until its lease runs out. */
        db_job_drop(l->cat, job, l->worker_id, now);
        return;
    }
    rc = reason ? db_job_fail(l->cat, job, l->worker_id, reason, now)
                : db_job_requeue(l->cat, job, l->worker_id, now);
    if (rc < 0)
        hc_log("first lane: job %lld not recorded (%s); its claim runs out", (long long)job, db_rc_name(rc));
}

/* Give waiting encodes their turn (JC_GO), oldest first, while fewer
 * than l->max_encodes encode. */
static void grant_turns(struct lane *l)
{
    for (;;) {
        struct slot *next = NULL;
        struct jc_msg m;
        int running = 0;

        for (int i = 0; i < l->nslots; i++) {
            struct slot *s = &l->slots[i];
            if (!s->job_id)
                continue;
            running += s->encode == 2;
            if (s->encode == 1 && (!next || s->asked < next->asked))
                next = s;
        }
        if (!next || (l->max_encodes > 0 && running >= l->max_encodes))
            return;
        memset(&m, 0, sizeof(m));
        m.version = JC_VERSION;
        m.type = JC_GO;
        next->encode = 2;   /* a child that cannot be told ends without a result */
        if (jc_send(next->child.sock, &m) == 0 && next->waited)
            hc_log("first lane: job %lld: its turn to encode (%d encoding)", (long long)next->job_id,
                   running + 1);
    }
}

/* Say in the pass's folder that it encodes (LAYOUT_FIRST_ENCODING), and
 * in an S3 store as the object first/.encoding, so that its ladder does
 * not wait for it as for a copy (worker.c). Not for a pass that encodes
 * the ladder's top rung: the ladder waits for that one too. */
static void mark_encoding(struct slot *s)
{
    char path[sizeof(s->dir) + 16];
    int fd;

    snprintf(path, sizeof(path), "%s/" LAYOUT_FIRST_ENCODING, s->dir);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) >= 0)
        close(fd);
    /* A ladder on another machine looks for it in the store. */
    if (store_is_s3() &&
        store_put_media_marker(s->update_id, LAYOUT_FIRST_DIR "/" LAYOUT_FIRST_ENCODING) == 0)
        s->marked = 1;
}

/* One message from slot s's child. */
static void on_message(struct lane *l, struct slot *s, const struct jc_msg *m)
{
    int64_t now = (int64_t)hc_now(), job = s->job_id;
    int rc;

    if (m->type == JC_PROGRESS) {
        s->pct = m->total > 0 ? m->done * 100.0 / m->total : 0;
        s->eta = m->eta;
    } else if (m->type == JC_ENCODE && s->encode == 0) {
        if (m->final)
            hc_log("first lane: job %lld encodes the ladder's top rung (the ladder takes it over)",
                   (long long)job);
        else
            mark_encoding(s);
        s->encode = 1;
        s->asked = ++l->asks;
        grant_turns(l);
        s->waited = s->encode == 1;
        if (s->waited)
            hc_log("first lane: job %lld encodes; it waits for its turn (%d at once)", (long long)job,
                   l->max_encodes);
    } else if (m->type == JC_SLOW) {
        s->slow = m->final != 0;
        hc_log("first lane: job %lld: %s than real time (%s)", (long long)job, s->slow ? "slower" : "faster",
               m->done > 0 ? "measured" : "expected from its size and rate");
    } else if (m->type == JC_SEGMENT) {
        s->segments = (int)m->offset;
        s->playable = m->final != 0;
        if (s->playable && upload_pass(s) == 0 &&
            db_job_first_progress(l->cat, job, l->worker_id, s->segments, now) == DB_INVALID) {
            hc_log("first lane: job %lld is no longer ours; stopping it", (long long)job);
            slot_abandon(l, s, NULL, 1);
        }
    } else if (m->type == JC_FAILED) {
        hc_log("first lane: job %lld failed: %s", (long long)job, m->result.error);
        slot_abandon(l, s, m->result.error[0] ? m->result.error : "the first rendition could not be made", 0);
    } else if (m->type == JC_DONE) {
        int status = slot_end(s, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            hc_log("first lane: job %lld: its child ended badly after its result", (long long)job);
            drop_folder(s);
            db_job_requeue(l->cat, job, l->worker_id, now);
            return;
        }
        sandbox_give_back(s->dir);
        if (upload_pass(s) < 0) {
            /* Tried again later from the start; not the video's fault. */
            drop_folder(s);
            db_job_release(l->cat, job, l->worker_id, now);
            return;
        }
        rc = db_job_first_done(l->cat, job, l->worker_id, (int)m->offset, now);
        if (rc == DB_NOTFOUND || rc == DB_INVALID)
            drop_folder(s);     /* deleted meanwhile, or taken over */
        else if (rc < 0)
            hc_log("first lane: job %lld done but not recorded (%s); its claim runs out",
                   (long long)job, db_rc_name(rc));
        else
            hc_log("first lane: job %lld done: update %lld, %d segments, %.1f s", (long long)job,
                   (long long)s->update_id, (int)m->offset, m->result.duration);
        drop_scratch(s);    /* (in the store now, or not wanted) */
    }
}

/* Messages, input, heartbeat and deadline of one busy slot. */
static void slot_tick(struct lane *l, struct slot *s)
{
    struct jc_msg m;
    int r;

    if (s->waiting) {
        if (slot_wait(l, s)) {
            hc_log("first lane: job %lld: its upload is gone; stopping", (long long)s->job_id);
            slot_abandon(l, s, NULL, 1);
            return;
        }
        if (s->waiting)
            goto beat;
    }
    while (s->job_id && (r = jc_next(&s->child, 0, &m)) != 0) {
        if (r < 0) {
            hc_log("first lane: job %lld: its child ended without a result; the job goes back to the queue",
                   (long long)s->job_id);
            slot_abandon(l, s, NULL, 0);
            return;
        }
        on_message(l, s, &m);
    }
    if (!s->job_id)
        return;
    if (feed(l, s)) {
        hc_log("first lane: job %lld: its upload is gone; stopping", (long long)s->job_id);
        slot_abandon(l, s, NULL, 1);
        return;
    }
    if (hc_monotonic() > s->deadline) {
        slot_abandon(l, s, "the first rendition took too long", 0);
        return;
    }
    /* Said at once: the author's page tells why playback may pause. */
    if (s->slow != s->slow_saved &&
        db_job_first_slow(l->cat, s->job_id, l->worker_id, s->slow, (int64_t)hc_now()) == DB_OK)
        s->slow_saved = s->slow;
beat:
    if (!s->job_id)
        return;
    if (hc_monotonic() - s->last_beat >= JOB_HEARTBEAT) {
        s->last_beat = hc_monotonic();
        if (db_job_heartbeat(l->cat, s->job_id, l->worker_id, s->pct > 99.9 ? 99.9 : s->pct, s->eta,
                             (int64_t)hc_now(), worker_lease()) == DB_INVALID) {
            hc_log("first lane: job %lld is no longer ours (deleted or taken over); stopping",
                   (long long)s->job_id);
            slot_abandon(l, s, NULL, 1);
        }
    }
}

/* Claim first jobs into free slots. */
static void fill(struct lane *l)
{
    for (int i = 0; i < l->nslots; i++) {
        struct db_job j;
        int rc;

        if (l->slots[i].job_id)
            continue;
        rc = worker_claim_job(l->cat, DB_LANE_FIRST, l->worker_id, &j);
        if (rc != DB_OK)
            return;
        slot_start(l, &l->slots[i], &j);
    }
}

/* Wait up to ms for a child's message (or a signal). */
static void wait_children(struct lane *l, int ms)
{
    struct pollfd p[FIRST_MAX_JOBS];
    int n = 0;

    for (int i = 0; i < l->nslots; i++)
        if (l->slots[i].job_id)
            p[n++] = (struct pollfd){ l->slots[i].child.sock, POLLIN, 0 };
    poll(p, (nfds_t)n, ms);
}

int first_lane_run(const struct conf *conf, struct catalog *cat, const char *worker_id,
                   volatile sig_atomic_t *stop, volatile sig_atomic_t *woken)
{
    struct lane *l = hc_calloc(1, sizeof(*l));
    double last_claim = 0;

    l->conf = conf;
    l->cat = cat;
    l->worker_id = worker_id;
    l->nslots = conf->first_jobs < 1 ? 1 : conf->first_jobs > FIRST_MAX_JOBS ? FIRST_MAX_JOBS : conf->first_jobs;
    l->max_encodes = conf->first_encodes > 0 ? conf->first_encodes : 0;
    for (int i = 0; i < l->nslots; i++)
        l->slots[i].in_fd = -1;
    if (l->max_encodes > 0)
        hc_log("first lane %s: up to %d first-playable passes at once, %d of them encoding", worker_id, l->nslots,
               l->max_encodes);
    else
        hc_log("first lane %s: up to %d first-playable passes at once", worker_id, l->nslots);
    while (!*stop) {
        int busy = 0;

        /* Claim when woken (a job was queued) or once a second alone. */
        if (*woken || hc_monotonic() - last_claim >= 1.0) {
            *woken = 0;
            last_claim = hc_monotonic();
            fill(l);
        }
        for (int i = 0; i < l->nslots; i++)
            if (l->slots[i].job_id) {
                slot_tick(l, &l->slots[i]);
                busy = 1;
            }
        grant_turns(l);     /* turns that ended */
        if (*woken)
            continue;
        /* Offsets move with every PATCH (and a SIGUSR1 wakes this poll). */
        wait_children(l, busy ? 100 : 1000);
    }
    /* Stopping: hand every pass back without spending an attempt. */
    for (int i = 0; i < l->nslots; i++) {
        struct slot *s = &l->slots[i];
        int64_t job = s->job_id;
        if (!job)
            continue;
        slot_end(s, 1);
        drop_folder(s);
        db_job_release(cat, job, worker_id, (int64_t)hc_now());
    }
    for (int i = 0; i < l->nslots; i++)
        store_sync_free(&l->slots[i].sync);
    free(l);
    return 0;
}

int first_lane_run_one(const struct conf *conf, struct catalog *cat, const char *worker_id,
                       const struct db_job *job, volatile sig_atomic_t *stop)
{
    struct lane *l = hc_calloc(1, sizeof(*l));
    struct slot *s = &l->slots[0];

    l->conf = conf;
    l->cat = cat;
    l->worker_id = worker_id;
    l->nslots = 1;
    if (slot_start(l, s, job) == 0) {
        while (s->job_id && !*stop) {
            slot_tick(l, s);
            if (s->job_id)
                wait_children(l, 100);
        }
        if (s->job_id) {        /* stopping */
            slot_end(s, 1);
            drop_folder(s);
            db_job_release(cat, job->id, worker_id, (int64_t)hc_now());
        }
    }
    store_sync_free(&s->sync);
    free(l);
    return 0;
}
