/*
 * worker.c - `hubcast worker`: claim transcode jobs from the catalog and
 * run each in a job child of its own (jobchild.h), which holds the job's
 * limits and confinement, so that a hostile file can at worst kill that
 * child. The worker keeps the catalog: it heartbeats while the child runs,
 * publishes the child's work folder and records the outcome. A child that
 * dies is retried; the supervisor in `hubcast serve` restarts workers that
 * exit, and a job whose worker died is reclaimed when its lease runs out,
 * at most JOB_MAX_ATTEMPTS times in all.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "commands.h"
#include "conf.h"
#include "db_trim.h"
#include "db_updates.h"
#include "jobchild.h"
#include "layout.h"
#include "mail.h"
#include "publish.h"
#include "reuse.h"
#include "sandbox.h"
#include "store.h"
#include "transcode.h"
#include "util.h"
#include "worker.h"

/* How long a claim lasts without a heartbeat; tests may shorten it. */
static int job_lease = JOB_LEASE;

int worker_lease(void)
{
    return job_lease;
}

int worker_claim_job(struct catalog *c, int lane, const char *worker_id, struct db_job *job)
{
    static const char exhausted[] = "processing stopped unexpectedly three times (the file may be damaged "
                                    "or too demanding); try uploading it again";
    int rc = db_job_claim_lane(c, (enum db_lane)lane, worker_id, (int64_t)hc_now(), job_lease,
                               JOB_MAX_ATTEMPTS, exhausted, job);

    if (rc < 0 && rc != DB_NOTFOUND)
        hc_log("worker %s: cannot claim a job: %s", worker_id, db_rc_name(rc));
    return rc;
}

int64_t worker_claim(struct catalog *c, const char *worker_id, int64_t *update_id,
                     char *input, size_t inputsz)
{
    struct db_job job;
    int rc = worker_claim_job(c, DB_LANE_ANY, worker_id, &job);

    if (rc == DB_NOTFOUND)
        return 0;
    if (rc < 0)
        return -1;
    *update_id = job.update_id;
    hc_strlcpy(input, job.input_path, inputsz);
    return job.id;
}

/* ---- the worker process ---- */

static volatile sig_atomic_t stopping, woken;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

/* SIGUSR1 from the supervisor: a job was queued or an upload moved. */
static void on_wake(int sig)
{
    (void)sig;
    woken = 1;
}

struct job_ctx {
    struct catalog *cat;
    int64_t job_id;
    int64_t update_id;
    const char *worker_id;
    double last_beat;
    double pct, eta;    /* the child's last progress report */
    int lost;
    int media_version;  /* the version this job makes (db_trim.h) */
    const char *work;   /* its work folder */
    struct store_sync *sync; /* S3 media store: what of it is uploaded, else NULL */
};

/* The heartbeat: extend the lease only if the job is still ours. Returns
 * 0, or 1 when it is not (deleted or taken over): stop. A catalog that
 * cannot be reached is no reason to stop. */
static int job_heartbeat(struct job_ctx *j)
{
    int rc = db_job_heartbeat(j->cat, j->job_id, j->worker_id, j->pct, j->eta,
                              (int64_t)hc_now(), job_lease);

    if (rc == DB_INVALID) {
        j->lost = 1;
        return 1;
    }
    if (rc < 0)
        hc_log("worker %s: heartbeat of job %lld not recorded: %s", j->worker_id,
               (long long)j->job_id, db_rc_name(rc));
    return 0;
}

/* Hand the job back to the queue: without spending an attempt when this
 * worker is stopping, spending one when its child died. If the catalog
 * cannot be told, the claim runs out and the job is retried anyway. */
static void job_requeue(struct job_ctx *j, int spend)
{
    int64_t now = (int64_t)hc_now();
    int rc = spend ? db_job_requeue(j->cat, j->job_id, j->worker_id, now)
                   : db_job_release(j->cat, j->job_id, j->worker_id, now);

    if (rc < 0)
        hc_log("worker %s: job %lld not handed back (%s); its claim runs out", j->worker_id,
               (long long)j->job_id, db_rc_name(rc));
}

/* The job failed for a reason a person can read. */
static void job_failed(struct job_ctx *j, const char *msg)
{
    int rc;

    hc_log("worker %s: job %lld failed: %s", j->worker_id, (long long)j->job_id, msg);
    if ((rc = db_job_fail(j->cat, j->job_id, j->worker_id, msg, (int64_t)hc_now())) < 0)
        hc_log("worker %s: job %lld: failure not recorded (%s); its claim runs out and it is retried",
               j->worker_id, (long long)j->job_id, db_rc_name(rc));
}

static void limit(int res, rlim_t v)
{
    struct rlimit rl = { v, v };
    if (setrlimit(res, &rl) < 0)
        hc_log("worker: setrlimit(%d): %s", res, strerror(errno));
}

/* The worker's own limits and no network; each job child gets tighter
 * limits of its own (sandbox.h) and inherits the network namespace. */
static void confine(int keep_network)
{
#ifndef HAVE_SANITIZERS
    /* ASan reserves terabytes of address space, so only plain builds cap it. */
    limit(RLIMIT_AS, (rlim_t)6 << 30);
#endif
    limit(RLIMIT_FSIZE, (rlim_t)32 << 30);
    limit(RLIMIT_NOFILE, 256);
    limit(RLIMIT_CORE, 0);
#ifdef HAVE_UNSHARE
    /* No network: a fresh network namespace has only a down loopback.
     * A worker of an S3 media store keeps it (its job children drop it:
     * jc_spec.no_network). */
    if (!keep_network && unshare(CLONE_NEWNET) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        hc_log("worker: cannot drop network access (unshare: %s); relying on the "
               "transcoder's file-only input rules", strerror(errno));
#endif
}

/* Work folders of earlier attempts at this update (a worker that died)
 * are this worker's to remove: it holds the job's claim now. */
static void sweep_work_folders(const struct conf *conf, int64_t update_id)
{
    char dir[LAYOUT_PATH_MAX], prefix[64], path[LAYOUT_PATH_MAX + 256];
    DIR *d;
    struct dirent *e;

    if (layout_media_dir(conf->data_dir, dir, sizeof(dir)) < 0 ||
        layout_work_prefix(update_id, prefix, sizeof(prefix)) < 0 || !(d = opendir(dir)))
        return;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix))) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            hc_rmtree(path);
        }
    closedir(d);
}

/* How a job child ended, in words for the log. */
static void describe_end(int status, char *out, size_t outsz)
{
    if (WIFSIGNALED(status))
        snprintf(out, outsz, "was killed by signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGXCPU ? " (out of CPU time)" : "");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == SANDBOX_EXIT_BLOCKED)
        snprintf(out, outsz, "made a system call its filter does not allow");
    else if (WIFEXITED(status))
        snprintf(out, outsz, "exited with status %d without a result", WEXITSTATUS(status));
    else
        snprintf(out, outsz, "ended without a result");
}

static void store_upload_progress(struct job_ctx *j);
static void store_job_begin(struct job_ctx *j, const char *work);

/* Run the child until it ends, heartbeating; fills *res and returns the
 * message type it ended with (JC_DONE, JC_FAILED) or 0, with *timed_out set
 * when the deadline passed. The child is reaped either way. */
static int watch_child(const struct conf *conf, struct job_ctx *ctx, struct jc_child *child,
                       struct tc_result *res, int *timed_out, int *status)
{
    /* The child's own deadline check gives the readable reason first. */
    double deadline = hc_monotonic() + conf->job_deadline + 10;
    struct jc_msg m;
    int got = 0, ended = 0;

    *timed_out = 0;
    while (!stopping && !ctx->lost) {
        int r = jc_next(child, 250, &m);
        if (r < 0) {
            ended = 1;
            break;
        }
        if (r > 0 && m.type == JC_PROGRESS) {
            ctx->pct = m.total > 0 ? m.done * 100.0 / m.total : 0;
            if (ctx->pct > 99.9)
                ctx->pct = 99.9;
            ctx->eta = m.eta;
        } else if (r > 0 && (m.type == JC_DONE || m.type == JC_FAILED)) {
            *res = m.result;
            got = (int)m.type;
            /* It has said all it will: it only has to exit now. */
            if (deadline > hc_monotonic() + 60)
                deadline = hc_monotonic() + 60;
        }
        if (hc_monotonic() > deadline) {
            *timed_out = !got;
            break;
        }
        if (hc_monotonic() - ctx->last_beat >= JOB_HEARTBEAT) {
            ctx->last_beat = hc_monotonic();
            job_heartbeat(ctx);
            store_upload_progress(ctx);
        }
    }
    *status = jc_finish(child, !ended);
    return got;
}

/* Is the disk of the data folder (nearly) full? Then a failed transcode
 * says nothing about the video. */
static int disk_full(const struct conf *conf)
{
    struct statvfs vfs;
    return statvfs(conf->data_dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < ((uint64_t)1 << 20);
}

/* Inside the "ready" transaction: the notifications, queued with it. */
static int ready_mail(struct catalog *c, int64_t update_id, void *arg)
{
    return mail_on_update_ready(c, arg, update_id);
}

/*
 * The media version job j makes and where it goes: 0 with *jm and out
 * (DATA/media/<id>, or DATA/media/<id>/v<N> with DATA/media/<id> made);
 * 1 when a newer version was asked for since (the job is dropped: there is
 * nothing to do); -1 when the catalog cannot say (the claim runs out and
 * the job is retried).
 */
static int job_target(const struct conf *conf, struct job_ctx *j, struct db_job_media *jm,
                      char *out, size_t outsz)
{
    struct db_media m;
    char dir[LAYOUT_PATH_MAX];
    int rc;

    if ((rc = db_job_media(j->cat, j->job_id, jm)) < 0 ||
        (rc = db_update_media_state(j->cat, j->update_id, &m)) < 0) {
        hc_log("worker %s: job %lld: cannot read its media version: %s", j->worker_id,
               (long long)j->job_id, db_rc_name(rc));
        return -1;
    }
    j->media_version = jm->version;
    if (rc == DB_OK && m.latest > jm->version) {
        struct db_ready none = { .now = (int64_t)hc_now() };
        int prev;
        /* running -> dropped; nothing is published for an older trim */
        db_job_finish_media(j->cat, j->job_id, j->worker_id, &none, jm->version, 0, NULL, NULL, &prev);
        hc_log("worker %s: job %lld: trimmed again since; dropped", j->worker_id, (long long)j->job_id);
        return 1;
    }
    if (layout_update_media(conf->data_dir, j->update_id, dir, sizeof(dir)) < 0 ||
        layout_version_media(conf->data_dir, j->update_id, jm->version, out, outsz) < 0)
        return -1;
    if (jm->version > 0 && hc_mkdirs(dir, 0755) < 0) {
        hc_log("worker %s: cannot create %s: %s", j->worker_id, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* 1 when name, an entry of DATA/media/<id>, is media version >= 1
 * ("v<N>") or work in progress: not files of version 0. */
static int versioned_entry(const char *name, int *version)
{
    long v;

    *version = 0;
    if (strstr(name, ".work-"))
        return 1;
    if (name[0] != 'v' || hc_parse_long(name + 1, 1, 1L << 30, &v) < 0)
        return 0;
    *version = (int)v;
    return 1;
}

/*
 * After version `version` of update id is published in place of
 * `previous`: remove every other version, keeping `previous` for whoever
 * is still watching it (it goes at the next trim). Work in progress and
 * the first-playable folder stay.
 */
static void remove_versions(const struct conf *conf, int64_t id, int version, int previous)
{
    char dir[LAYOUT_PATH_MAX], path[LAYOUT_PATH_MAX + 300];
    struct dirent *e;
    DIR *d;
    int v;

    if (layout_update_media(conf->data_dir, id, dir, sizeof(dir)) < 0 || !(d = opendir(dir)))
        return;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, "first"))
            continue;
        if (versioned_entry(e->d_name, &v) && (v == 0 || v == version || v == previous))
            continue;   /* work in progress, or a version kept */
        if (!v && (version == 0 || previous == 0))
            continue;   /* version 0's files are kept */
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        hc_rmtree(path);
    }
    closedir(d);
}

static void clear_media(const char *out);

/* ---- a worker of an S3 media store (store.h) ----
 *
 * The job child still writes into a local folder (the worker's data
 * folder is scratch); once it is published there, its files are uploaded
 * under media/<id>/ (or media/<id>/v<N>/), the master playlist last, and
 * only then is the update recorded as ready. The local copy then goes. */

int worker_open_source(const struct conf *conf, int64_t update_id, const char *input, int *fd)
{
    char media[LAYOUT_PATH_MAX], scratch[LAYOUT_PATH_MAX + 64], rnd[24];
    int rc;

    if (!store_is_s3()) {
        if ((*fd = open(input, O_RDONLY | O_CLOEXEC)) >= 0)
            return 0;
        hc_log("worker: cannot open %s: %s", input, strerror(errno));
        return 1;
    }
    hc_random_token(rnd, sizeof(rnd), 6);
    /* "<id>.work-..." : an attempt that died leaves it to sweep_work_folders. */
    if (layout_media_dir(conf->data_dir, media, sizeof(media)) < 0 || hc_mkdirs(media, 0755) < 0 ||
        snprintf(scratch, sizeof(scratch), "%s/%lld.work-source-%s", media, (long long)update_id, rnd) >=
            (int)sizeof(scratch))
        return -1;
    if ((rc = store_fetch_source(input, scratch)) != 0)
        return rc;
    *fd = open(scratch, O_RDONLY | O_CLOEXEC);
    unlink(scratch);
    if (*fd < 0) {
        hc_log("worker: cannot open %s: %s", scratch, strerror(errno));
        return -1;
    }
    return 0;
}

/* What of the ladder job in progress is uploaded: a worker runs one at a time. */
static struct store_sync job_sync;

/* S3 media store: the job's uploads start afresh, from its work folder. */
static void store_job_begin(struct job_ctx *j, const char *work)
{
    char sub[32];

    store_sync_free(&job_sync);
    if (!store_is_s3())
        return;
    layout_version_name(j->media_version, sub, sizeof(sub));
    store_sync_init(&job_sync, j->update_id, sub);
    j->sync = &job_sync;
    j->work = work;
}

/* While the child runs: upload the segments it has finished (the rest,
 * playlists last, once the folder is published). */
static void store_upload_progress(struct job_ctx *j)
{
    if (j->sync && j->work)
        store_sync_segments(j->sync, j->work);
}

/* Upload the published folder out: what store_upload_progress has not
 * sent, the master playlist last. 0 or -1. */
static int store_upload_output(struct job_ctx *j, const char *out)
{
    size_t early = j->sync->n;
    int rc = store_sync_dir(j->sync, out);

    if (rc < 0)
        hc_log("worker %s: job %lld: its output cannot be uploaded to the media store", j->worker_id,
               (long long)j->job_id);
    else
        hc_log("worker %s: job %lld: in the media store: %zu files, %zu of them while transcoding",
               j->worker_id, (long long)j->job_id, j->sync->n, early);
    return rc;
}

/* The local copy of an uploaded output goes (a first rendition written
 * beside it by a first lane sharing this folder stays). */
static void store_drop_scratch(const char *out, int version)
{
    if (version > 0) {
        hc_rmtree(out);
        return;
    }
    clear_media(out);
    rmdir(out);     /* fails while a first rendition is there: it stays */
}

/* An output that will never be served (its update deleted, or trimmed
 * again): its objects go. The update's own prefix goes whole only when
 * the update is gone. */
static void store_drop_output(struct catalog *cat, int64_t update_id, int version)
{
    struct db_media m;
    char sub[32];

    if (!store_is_s3())
        return;
    if (db_update_media_state(cat, update_id, &m) == DB_NOTFOUND)
        store_delete_media(update_id, "");
    else if (version > 0 && layout_version_name(version, sub, sizeof(sub)) == 0)
        store_delete_media(update_id, sub);
}

/*
 * Report a finished transcode. A catalog that cannot be reached (a full
 * disk, a lock) is asked again, with the output kept, until it answers or
 * the worker is told to stop: finished output is never thrown away because
 * a report failed. Only an update that is gone has its output removed.
 */
static void report_ready(const struct conf *conf, struct catalog *cat, const char *worker_id, int64_t job_id,
                         int64_t update_id, const struct tc_result *res, const char *out, int version)
{
    struct db_rendition rungs[TC_MAX_RUNGS];
    struct db_ready ready = { res->duration, res->width, res->height, rungs, 0, 0 };
    int rc, wait_ms = 250, previous = 0;

    for (int i = 0; i < res->nrungs && i < TC_MAX_RUNGS; i++) {
        memset(&rungs[i], 0, sizeof(rungs[i]));
        hc_strlcpy(rungs[i].name, res->rungs[i].name, sizeof(rungs[i].name));
        rungs[i].width = res->rungs[i].width;
        rungs[i].height = res->rungs[i].height;
        rungs[i].bandwidth = res->rungs[i].bandwidth;
        rungs[i].avg_bandwidth = res->rungs[i].avg_bandwidth;
        hc_strlcpy(rungs[i].codecs, res->rungs[i].codecs, sizeof(rungs[i].codecs));
        ready.nrungs++;
    }
    for (;;) {
        ready.now = (int64_t)hc_now();
        rc = db_job_finish_media(cat, job_id, worker_id, &ready, version, res->source_duration,
                                 ready_mail, (void *)conf, &previous);
        if (rc == DB_OK) {
            hc_log("worker %s: job %lld done: update %lld ready, %d rungs, %.1f s", worker_id,
                   (long long)job_id, (long long)update_id, res->nrungs, res->duration);
            if (previous != version) {
                remove_versions(conf, update_id, version, previous);
                if (store_is_s3())
                    store_remove_versions(update_id, version, previous);
            }
            return;
        }
        if (rc == DB_NOTFOUND) {
            hc_log("worker %s: job %lld: its update was deleted or trimmed again meanwhile", worker_id,
                   (long long)job_id);
            hc_rmtree(out);
            store_drop_output(cat, update_id, version);
            return;
        }
        if (rc == DB_INVALID) {
            /* Another worker holds the claim now; the output is its business. */
            hc_log("worker %s: job %lld is no longer ours; leaving its output", worker_id, (long long)job_id);
            return;
        }
        hc_log("worker %s: job %lld finished but not recorded (%s); output kept, asking again",
               worker_id, (long long)job_id, db_rc_name(rc));
        if (stopping)
            return;     /* the claim runs out; whoever takes it over redoes it */
        /* Keep the claim while waiting (this fails too while the disk is full). */
        db_job_heartbeat(cat, job_id, worker_id, 99.9, 0, (int64_t)hc_now(), job_lease);
        for (int t = 0; t < wait_ms && !stopping; t += 50)
            usleep(50 * 1000);
        if (wait_ms < 4000)
            wait_ms *= 2;
    }
}

/* Clear what an earlier attempt left in version 0's media folder out
 * (one that died after publishing), keeping the first rendition (viewers
 * who started on it keep playing) and the versions of later trims. */
static void clear_media(const char *out)
{
    char path[LAYOUT_PATH_MAX + 256];
    DIR *d = opendir(out);
    struct dirent *e;
    int v;

    if (!d)
        return;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, LAYOUT_FIRST_DIR) &&
            !(versioned_entry(e->d_name, &v) && v > 0)) {
            snprintf(path, sizeof(path), "%s/%s", out, e->d_name);
            hc_rmtree(path);
        }
    closedir(d);
}

/* Publish the work folder as out: renamed into place, or, when out holds
 * a first rendition, moved in beside it with the master playlist last. */
static int publish(const char *work, const char *out)
{
    struct stat sb;
    int rc;

    if ((rc = sandbox_give_back(work)) < 0)
        return rc;
    /* (The first lane may create out meanwhile: then merge.) */
    if (stat(out, &sb) < 0 && (rc = tc_work_publish(work, out)) != -EEXIST && rc != -ENOTEMPTY)
        return rc;
    return tc_work_merge(work, out, "master.m3u8");
}

/* Publish the finished work folder and record the update as ready. */
static int job_done(const struct conf *conf, struct job_ctx *j, const char *work,
                    const char *out, const struct tc_result *res)
{
    int rc;

    if ((rc = publish(work, out)) < 0) {
        hc_log("worker %s: job %lld: publishing %s: %s", j->worker_id, (long long)j->job_id,
               work, strerror(-rc));
        hc_rmtree(work);
        if (disk_full(conf)) {
            /* Not the video's fault: tried again once there is room. */
            job_requeue(j, 0);
            sleep(1);
            return 0;
        }
        job_failed(j, "the output folder cannot be published");
        return 0;
    }
    if (store_is_s3() && store_upload_output(j, out) < 0) {
        /* The store is down or refusing: tried again later, not the video's fault. */
        store_drop_scratch(out, j->media_version);
        job_requeue(j, 0);
        sleep(1);
        return 0;
    }
    report_ready(conf, j->cat, j->worker_id, j->job_id, j->update_id, res, out, j->media_version);
    if (store_is_s3())
        store_drop_scratch(out, j->media_version);
    return 0;
}

#define FIRST_COPY_WAIT 300   /* seconds a ladder waits for a first pass that copies */
#define FIRST_LOOK_S3 0.5     /* seconds between looks at the store while waiting */

/* What media/<id>/first holds so far in an S3 store, as first_kind reads
 * it on disk: 1 a copy, 2 an encode of the ladder's top rung, 0 another
 * encode (its pass put the marker first/.encoding, or its master playlist
 * says neither), -1 nothing yet, or the store cannot say. */
static int first_kind_s3(int64_t update_id)
{
    char *text;
    int kind;

    if (store_get_media_text(update_id, LAYOUT_FIRST_DIR "/master.m3u8", 1 << 16, &text) == 0) {
        kind = tc_reuse_kind_text(text);
        free(text);
        return kind;
    }
    if (store_get_media_text(update_id, LAYOUT_FIRST_DIR "/" LAYOUT_FIRST_ENCODING, 64, &text) == 0) {
        free(text);
        return 0;
    }
    return -1;
}

/* What DATA/media/<id>/first holds so far: 1 a copy, 2 an encode of the
 * ladder's top rung, 0 another encode (its pass said so,
 * LAYOUT_FIRST_ENCODING, or its master playlist says neither:
 * tc_reuse_kind), -1 nothing yet. In an S3 store: first_kind_s3. */
static int first_kind(const struct conf *conf, int64_t update_id)
{
    char media[LAYOUT_PATH_MAX], dir[LAYOUT_PATH_MAX + 16];
    int fd, kind;

    if (store_is_s3())
        return first_kind_s3(update_id);
    if (layout_update_media(conf->data_dir, update_id, media, sizeof(media)) < 0)
        return -1;
    snprintf(dir, sizeof(dir), "%s/" LAYOUT_FIRST_DIR, media);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -1;
    kind = faccessat(fd, LAYOUT_FIRST_ENCODING, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : tc_reuse_kind(fd);
    close(fd);
    return kind;
}

/*
 * A ladder whose update's first pass is still under way waits for it
 * while it is a copy, an encode of the ladder's top rung, or has not said
 * yet (the first lane marks any other encode as soon as it says so,
 * before it may wait for its turn): it then becomes the top rung, which
 * saves the costliest encode. A copy ends within seconds of its upload
 * (it costs 2.4 CPU s per minute of video); an encode keeps about the
 * recording's pace, so it is waited for up to the job deadline, a copy
 * or a pass that has not said up to FIRST_COPY_WAIT seconds. With
 * heartbeats; a catalog that cannot say ends the wait. In an S3 store
 * the pass may run on another machine: the store is looked at every
 * FIRST_LOOK_S3 seconds.
 */
static void wait_first_pass(const struct conf *conf, struct job_ctx *j, const struct db_job_media *jm)
{
    double start = hc_monotonic(), next_look = 0, limit = FIRST_COPY_WAIT;
    int busy, said = 0, kind;

    if (jm->version > 0 || jm->trimmed)
        return;
    while (!stopping && !j->lost && hc_monotonic() < start + limit) {
        if (hc_monotonic() >= next_look) {
            if (db_update_first_busy(j->cat, j->update_id, &busy) < 0 || !busy ||
                (kind = first_kind(conf, j->update_id)) == 0)
                return;
            if (kind == 2 && conf->job_deadline > limit)
                limit = conf->job_deadline;
            next_look = hc_monotonic() + (store_is_s3() ? FIRST_LOOK_S3 : 0);
        }
        if (!said++)
            hc_log("worker %s: job %lld: waiting for the first pass of update %lld (it becomes the top rung)",
                   j->worker_id, (long long)j->job_id, (long long)j->update_id);
        if (hc_monotonic() - j->last_beat >= JOB_HEARTBEAT) {
            j->last_beat = hc_monotonic();
            job_heartbeat(j);
        }
        usleep(100 * 1000);
    }
}

/*
 * S3 store: download the update's first rendition, as far as the ladder
 * reads it (master.m3u8, video/index.m3u8, then video/init.mp4 and the
 * segments the playlist lists, only once those two show an ended
 * rendition the ladder may take over), into the new scratch folder dir:
 * DATA/media/<id>.work-first-..., which sweep_work_folders removes should
 * this worker die. Returns the
 * folder open read-only, or 0 (nothing to take over, or the store failed:
 * the ladder encodes every rung); dir is removed then. The caller removes
 * dir once the job child has ended.
 */
static int fetch_first(const struct conf *conf, int64_t update_id, char *dir, size_t dirsz)
{
    char media[LAYOUT_PATH_MAX], rnd[24], name[32];
    struct tc_reuse r = { 0 };
    double start = hc_monotonic();
    int fd = -1, rc = 0, nsegs;

    hc_random_token(rnd, sizeof(rnd), 6);
    if (layout_media_dir(conf->data_dir, media, sizeof(media)) < 0 || hc_mkdirs(media, 0755) < 0 ||
        snprintf(dir, dirsz, "%s/%lld.work-first-%s", media, (long long)update_id, rnd) >= (int)dirsz) {
        *dir = '\0';
        return 0;
    }
    if (mkdir(dir, 0755) < 0) {
        hc_log("worker: cannot create %s: %s", dir, strerror(errno));
        *dir = '\0';
        return 0;
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) <= 0 ||
        mkdirat(fd, "video", 0755) < 0 ||
        store_fetch_media(update_id, LAYOUT_FIRST_DIR, "master.m3u8", fd) != 0 ||
        store_fetch_media(update_id, LAYOUT_FIRST_DIR, "video/index.m3u8", fd) != 0 ||
        tc_reuse_load(fd, &r) < 0)
        goto none;
    rc = store_fetch_media(update_id, LAYOUT_FIRST_DIR, "video/init.mp4", fd);
    for (int i = 0; rc == 0 && i < r.nkeys; i++) {
        snprintf(name, sizeof(name), "video/seg_%05d.m4s", i);
        rc = store_fetch_media(update_id, LAYOUT_FIRST_DIR, name, fd);
    }
    nsegs = r.nkeys;
    tc_reuse_free(&r);
    if (rc != 0) {
        hc_log("worker: update %lld: its first rendition cannot be fetched from the store; "
               "the top rung is encoded", (long long)update_id);
        goto none;
    }
    hc_log("worker: update %lld: its first rendition fetched from the store (%d segments, %.1f s)",
           (long long)update_id, nsegs, hc_monotonic() - start);
    return fd;
none:
    if (fd >= 0)
        close(fd);
    hc_rmtree(dir);
    *dir = '\0';
    return 0;
}

/*
 * The update's first rendition, open read-only, when the ladder may take
 * it over as its top rung: a copy (remux), or an encode at the ladder's
 * settings, that has ended, for the untrimmed version 0. Else 0: the
 * ladder encodes every rung. The job child reads it through this
 * descriptor only (JC_FD_FIRST) and decides the rest (the size must be
 * the top rung's, an encode's settings the ladder's). With an S3 media
 * store first/ lives in the store: it is downloaded into the scratch
 * folder first_dir (fetch_first; "" when none), which the caller removes.
 */
static int open_first(const struct conf *conf, int64_t update_id, const struct db_job_media *jm,
                      char *first_dir, size_t first_dirsz)
{
    char media[LAYOUT_PATH_MAX], dir[LAYOUT_PATH_MAX + 16];
    struct tc_reuse r;
    int fd;

    *first_dir = '\0';
    if (jm->version > 0 || jm->trimmed)
        return 0;
    if (store_is_s3())
        return fetch_first(conf, update_id, first_dir, first_dirsz);
    if (layout_update_media(conf->data_dir, update_id, media, sizeof(media)) < 0)
        return 0;
    snprintf(dir, sizeof(dir), "%s/" LAYOUT_FIRST_DIR, media);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return 0;
    if (fd == 0 || tc_reuse_load(fd, &r) < 0) {
        close(fd);
        return 0;
    }
    tc_reuse_free(&r);
    return fd;
}

static int run_job(const struct conf *conf, struct catalog *cat, const char *worker_id,
                   int64_t job_id, int64_t update_id, const char *input)
{
    char out[LAYOUT_PATH_MAX], work[LAYOUT_PATH_MAX + 100], how[96], first_dir[LAYOUT_PATH_MAX + 64];
    struct jc_spec spec;
    struct jc_child child;
    struct tc_result res;
    struct job_ctx ctx = { cat, job_id, update_id, worker_id, 0, 0, -1, 0, 0, NULL, NULL };
    struct db_job_media jm;
    int in_fd, work_fd, got, timed_out, status, rc, reuse;

    if ((rc = job_target(conf, &ctx, &jm, out, sizeof(out))) != 0)
        return rc < 0 ? -1 : 0;
    /* A previous attempt that died after publishing. */
    if (jm.version > 0)
        hc_rmtree(out);
    else
        clear_media(out);
    sweep_work_folders(conf, update_id);
    memset(&spec, 0, sizeof(spec));
    if (sandbox_job_user(&spec.uid, &spec.gid) < 0) {
        hc_log("worker %s: there is no user `nobody` to run jobs as", worker_id);
        return -1;
    }
    if ((rc = worker_open_source(conf, update_id, input, &in_fd)) != 0) {
        if (rc < 0) {           /* the media store failed: not the video's fault */
            job_requeue(&ctx, 0);
            sleep(1);
            return 0;
        }
        job_failed(&ctx, "the stored file cannot be opened");
        return 0;
    }
    if ((rc = tc_work_create(out, work, sizeof(work))) < 0 ||
        (work_fd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        (spec.uid != (uid_t)-1 && fchown(work_fd, spec.uid, spec.gid) < 0)) {
        hc_log("worker %s: job %lld: cannot create a work folder for %s: %s", worker_id,
               (long long)job_id, out, strerror(rc < 0 ? -rc : errno));
        close(in_fd);
        if (rc == 0)
            hc_rmtree(work);
        job_failed(&ctx, "cannot create the output folder");
        return 0;
    }
    store_job_begin(&ctx, work);
    spec.kind = JC_KIND_LADDER;
    spec.no_network = store_is_s3();
    spec.in_fd = in_fd;
    spec.work_fd = work_fd;
    spec.preset = conf->preset;
    spec.crf = conf->crf;
    spec.threads = conf->worker_threads;
    spec.max_duration = conf->max_duration;
    spec.deadline = conf->job_deadline;
    spec.test_clock = conf->test_clock;
    spec.trim_start = jm.trimmed ? jm.trim_start : 0;
    spec.trim_end = jm.trimmed ? jm.trim_end : 0;
    wait_first_pass(conf, &ctx, &jm);
    if (stopping || ctx.lost) {
        close(in_fd);
        close(work_fd);
        hc_rmtree(work);
        if (stopping && !ctx.lost)
            job_requeue(&ctx, 0);
        return 0;
    }
    spec.first_fd = open_first(conf, update_id, &jm, first_dir, sizeof(first_dir));
    reuse = spec.first_fd > 0 ? tc_reuse_kind(spec.first_fd) : 0;
    hc_log("worker %s: job %lld: transcoding update %lld%s", worker_id, (long long)job_id, (long long)update_id,
           reuse == 1 ? " (its first rendition is a copy: offered as the top rung)" :
           reuse == 2 ? " (its first rendition was encoded as the top rung: offered)" : "");
    rc = jc_start(&spec, &child);
    close(in_fd);
    close(work_fd);
    if (spec.first_fd > 0)
        close(spec.first_fd);
    if (rc < 0) {
        hc_log("worker %s: job %lld: cannot start a job child: %s", worker_id, (long long)job_id,
               strerror(-rc));
        if (*first_dir)
            hc_rmtree(first_dir);
        hc_rmtree(work);
        job_requeue(&ctx, 0);
        return -1;
    }
    memset(&res, 0, sizeof(res));
    ctx.last_beat = hc_monotonic();
    got = watch_child(conf, &ctx, &child, &res, &timed_out, &status);
    if (*first_dir)     /* the S3 store's first rendition, fetched for the child */
        hc_rmtree(first_dir);
    hc_log("worker %s: job %lld: the job child used %.2f CPU s", worker_id, (long long)job_id, child.cpu);
    if (ctx.lost || stopping) {
        hc_rmtree(work);
        if (stopping && !ctx.lost)   /* hand it back without spending an attempt */
            job_requeue(&ctx, 0);
        return 0;
    }
    if (got == JC_FAILED && disk_full(conf)) {
        /* Not the video's fault: hand it back to be tried once there is room. */
        hc_log("worker %s: job %lld stopped on a full disk: %s", worker_id, (long long)job_id, res.error);
        hc_rmtree(work);
        job_requeue(&ctx, 0);
        sleep(1);
        return 0;
    }
    if (timed_out || got == JC_FAILED) {
        hc_rmtree(work);
        job_failed(&ctx, timed_out ? "the transcode took too long" : res.error);
        return 0;
    }
    if (got != JC_DONE || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        describe_end(status, how, sizeof(how));
        hc_log("worker %s: job %lld: the job child %s; the job goes back to the queue",
               worker_id, (long long)job_id, how);
        hc_rmtree(work);
        job_requeue(&ctx, 1);
        return 0;
    }
    if (res.reused_first)
        hc_log("worker %s: job %lld: the top rung is the first rendition, %s", worker_id, (long long)job_id,
               reuse == 2 ? "encoded by the first pass" : "copied");
    return job_done(conf, &ctx, work, out, &res);
}

/* `hubcast first-lane`: the supervisor starts the first lane under a name
 * of its own, so that `ps` (and the count of --workers) tells it from the
 * ladder workers. */
static int force_first;

int cmd_first_lane(int argc, char **argv)
{
    force_first = 1;
    return cmd_worker(argc, argv);
}

int cmd_worker(int argc, char **argv)
{
    struct conf conf;
    struct catalog *cat;
    char worker_id[64], input[1100], err[512];
    int n, rc, lane, remote;
    struct db_job job;

    conf_defaults(&conf);
    if ((rc = conf_load(&conf, OPT_DATA | OPT_MEDIA | OPT_WORKER, argc, argv, &n)) != 0) {
        if (rc > 0) {
            puts("Usage: hubcast worker [--data DIR] [--lane any|first|ladder] [OPTIONS]\n\n"
                 "Claim transcode jobs from the catalog and run them until SIGTERM.\n"
                 "`hubcast serve` starts and supervises these (ladder workers and one\n"
                 "first lane); one can also run alone (lane any: first-playable passes\n"
                 "first, one job at a time). SIGUSR1 makes it look for work at once.\n");
            conf_usage(OPT_DATA | OPT_MEDIA | OPT_WORKER);
        }
        return rc > 0 ? 0 : 2;
    }
    if (force_first)
        lane = DB_LANE_FIRST;
    else if (!strcmp(conf.lane, "any"))
        lane = DB_LANE_ANY;
    else if (!strcmp(conf.lane, "first"))
        lane = DB_LANE_FIRST;
    else if (!strcmp(conf.lane, "ladder"))
        lane = DB_LANE_LADDER;
    else {
        fprintf(stderr, "hubcast: --lane is any, first or ladder, not \"%s\"\n", conf.lane);
        return 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_wake;    /* no SA_RESTART: it ends a wait */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    hc_clock_init(conf.test_clock);
    catalog_fault_init(conf.test_clock);
    if (conf.test_clock && getenv("HUBCAST_JOB_LEASE")) {
        long v;
        if (hc_parse_long(getenv("HUBCAST_JOB_LEASE"), 2, 3600, &v) == 0)
            job_lease = (int)v;
    }
    /* A PostgreSQL catalog is reached over the network: connect first.
     * The connection keeps working after the worker moves to a network
     * namespace of its own, and job children (which close it) have none.
     * Should it be lost, the worker exits and its supervisor starts a new
     * one, which connects again. */
    remote = strncmp(conf.database, "postgres", 8) == 0;
    if (remote && !(cat = hc_open_catalog(&conf, 0)))
        return 1;
    if (store_init(&conf, err, sizeof(err)) < 0) {
        fprintf(stderr, "hubcast: %s\n", err);
        return 2;
    }
    confine(store_is_s3());
    if (!remote && !(cat = hc_open_catalog(&conf, 0)))
        return 1;
    snprintf(worker_id, sizeof(worker_id), "%d-%lld", (int)getpid(), (long long)hc_now());
    if (lane == DB_LANE_FIRST) {
        first_lane_run(&conf, cat, worker_id, &stopping, &woken);
        catalog_close(cat);
        store_close();
        return 0;
    }
    while (!stopping) {
        woken = 0;
        rc = worker_claim_job(cat, lane, worker_id, &job);
        if (rc == DB_OK) {
            hc_strlcpy(input, job.input_path, sizeof(input));
            if (job.first)
                first_lane_run_one(&conf, cat, worker_id, &job, &stopping);
            else
                run_job(&conf, cat, worker_id, job.id, job.update_id, input);
            continue;
        }
        if (rc < 0 && remote && catalog_lost(cat)) {
            hc_log("worker %s: lost the connection to the catalog; exiting to connect again", worker_id);
            catalog_close(cat);
            return 1;
        }
        /* A short poll, cut short by SIGUSR1 from the supervisor. */
        for (int i = 0; i < 10 && !stopping && !woken; i++)
            usleep(100 * 1000);
    }
    catalog_close(cat);
    store_sync_free(&job_sync);
    store_close();
    return 0;
}

/* ---- the supervisor, inside `hubcast serve` ---- */

#define MAX_WORKERS 65          /* ladder workers and the first lane */

static const struct conf *sup_conf;
static pid_t workers[MAX_WORKERS];   /* read by worker_wake from any thread */
static double started[MAX_WORKERS];
static int nworkers;
static int first_slot = -1;          /* workers[] index of the first lane, -1 none */
static volatile int sup_stop;
static pthread_t sup_thread;

/* The workers' environment: the server's, with HUBCAST_DATABASE set to
 * its catalog and the media store's settings (HUBCAST_MEDIA_STORE,
 * HUBCAST_S3_*, HUBCAST_CONFIG for its credentials), so that a URL stays
 * off the workers' command lines. */
static char **sup_env;
extern char **environ;

static void make_env(const struct conf *conf)
{
    const char *set[][2] = {
        { "HUBCAST_DATABASE=", conf->database },
        { "HUBCAST_MEDIA_STORE=", conf->media_store },
        { "HUBCAST_S3_ENDPOINT=", conf->s3_endpoint },
        { "HUBCAST_S3_REGION=", conf->s3_region },
        { "HUBCAST_CONFIG=", conf->config_file },
    };
    size_t n = 0, nset = sizeof(set) / sizeof(set[0]);

    while (environ[n])
        n++;
    sup_env = hc_calloc(n + nset + 1, sizeof(*sup_env));
    n = 0;
    for (char **e = environ; *e; e++) {
        int replaced = 0;
        for (size_t i = 0; i < nset && !replaced; i++)
            replaced = set[i][1][0] && !strncmp(*e, set[i][0], strlen(set[i][0]));
        if (!replaced)
            sup_env[n++] = *e;
    }
    for (size_t i = 0; i < nset; i++) {
        if (!set[i][1][0])
            continue;
        size_t len = strlen(set[i][0]) + strlen(set[i][1]) + 1;
        char *v = hc_malloc(len);
        snprintf(v, len, "%s%s", set[i][0], set[i][1]);
        sup_env[n++] = v;
    }
}

/* Start worker slot i: the first lane or a ladder worker. */
static pid_t spawn(int i)
{
    char threads[16], crf[16], maxdur[16], deadline[16], firstjobs[16], encodes[16];
    const char *lane = i == first_slot ? "first" : sup_conf->first_playable ? "ladder" : "any";
    pid_t pid;

    snprintf(firstjobs, sizeof(firstjobs), "%d", sup_conf->first_jobs);
    snprintf(encodes, sizeof(encodes), "%d", sup_conf->first_encodes);
    snprintf(threads, sizeof(threads), "%d", sup_conf->worker_threads);
    snprintf(crf, sizeof(crf), "%d", sup_conf->crf);
    snprintf(maxdur, sizeof(maxdur), "%d", sup_conf->max_duration);
    snprintf(deadline, sizeof(deadline), "%d", sup_conf->job_deadline);
    pid = fork();
    if (pid == 0) {
        sigset_t all;
        char *args[] = { "hubcast", i == first_slot ? "first-lane" : "worker", "--data", (char *)sup_conf->data_dir,
                         "--worker-threads", threads, "--preset", (char *)sup_conf->preset,
                         "--crf", crf, "--max-duration", maxdur, "--job-deadline", deadline,
                         "--lane", (char *)lane, "--first-jobs", firstjobs,
                         "--first-encodes", encodes,
                         sup_conf->test_clock ? "--test-clock" : NULL, NULL };
        sigemptyset(&all);
        pthread_sigmask(SIG_SETMASK, &all, NULL);
        /* A wake before the worker's handler is in place is not a kill. */
        signal(SIGUSR1, SIG_IGN);
#ifdef HAVE_SYS_PRCTL_H
        /* A worker does not outlive its server (even one killed with SIGKILL). */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
            _exit(0);
#endif
        execve(hc_self_path, args, sup_env);
        _exit(127);
    }
    return pid;
}

static void *supervise(void *arg)
{
    (void)arg;
    while (!sup_stop) {
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (int i = 0; i < nworkers; i++) {
                if (workers[i] != pid)
                    continue;
                if (WIFSIGNALED(status))
                    hc_log("worker %d was killed by signal %d; restarting it", (int)pid, WTERMSIG(status));
                else
                    hc_log("worker %d exited with status %d; restarting it", (int)pid, WEXITSTATUS(status));
                workers[i] = 0;
            }
        }
        for (int i = 0; i < nworkers && !sup_stop; i++) {
            if (workers[i])
                continue;
            /* Back off a worker that dies right after starting. */
            if (hc_monotonic() - started[i] < 2.0)
                continue;
            workers[i] = spawn(i);
            started[i] = hc_monotonic();
        }
        usleep(200 * 1000);
    }
    return NULL;
}

int supervisor_start(const struct conf *conf, int n)
{
    sup_conf = conf;
    make_env(conf);
    nworkers = n > MAX_WORKERS - 1 ? MAX_WORKERS - 1 : n;
    /* First-playable work has a lane of its own, never behind a ladder. */
    if (nworkers > 0 && conf->first_playable)
        first_slot = nworkers++;
    for (int i = 0; i < nworkers; i++) {
        workers[i] = spawn(i);
        started[i] = hc_monotonic();
    }
    wake_set(worker_wake);
    return pthread_create(&sup_thread, NULL, supervise, NULL) == 0 ? 0 : -1;
}

void worker_wake(int which)
{
    if (!sup_conf || sup_stop)
        return;
    for (int i = 0; i < nworkers; i++) {
        pid_t pid = workers[i];
        if (pid > 0 && (which == WORKER_WAKE_ALL || i == first_slot))
            kill(pid, SIGUSR1);
    }
}

void supervisor_stop(void)
{
    double deadline;

    if (!sup_conf)
        return;
    sup_stop = 1;
    pthread_join(sup_thread, NULL);
    for (int i = 0; i < nworkers; i++)
        if (workers[i] > 0)
            kill(workers[i], SIGTERM);
    deadline = hc_monotonic() + 10;
    for (int i = 0; i < nworkers; i++) {
        while (workers[i] > 0) {
            int status;
            pid_t r = waitpid(workers[i], &status, WNOHANG);
            if (r == workers[i] || (r < 0 && errno == ECHILD)) {
                workers[i] = 0;
                break;
            }
            if (hc_monotonic() > deadline) {
                kill(workers[i], SIGKILL);
                waitpid(workers[i], &status, 0);
                workers[i] = 0;
                break;
            }
            usleep(50 * 1000);
        }
    }
}
