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
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "commands.h"
#include "conf.h"
#include "jobchild.h"
#include "mail.h"
#include "publish.h"
#include "sandbox.h"
#include "transcode.h"
#include "util.h"
#include "worker.h"

/* How long a claim lasts without a heartbeat; tests may shorten it. */
static int job_lease = JOB_LEASE;

int64_t worker_claim(struct catalog *c, const char *worker_id, int64_t *update_id,
                     char *input, size_t inputsz)
{
    int64_t now = (int64_t)hc_now();
    json_t *job;
    int64_t id;

    for (;;) {
        if (cat_begin(c) < 0)
            return -1;
        job = cat_row(c,
            "SELECT j.id, j.update_id, j.input_path, j.attempts, j.state FROM jobs j "
            "LEFT JOIN updates u ON u.id = j.update_id "
            "WHERE j.state = 'queued' OR (j.state = 'running' AND j.lease_until < ?) "
            "ORDER BY j.priority DESC, "
            /* Fair turns: a job's place is the number of its author's
             * jobs that were already waiting when it was queued, so a
             * second person's first upload passes someone's fifth. */
            " (SELECT COUNT(*) FROM jobs j2 JOIN updates u2 ON u2.id = j2.update_id "
            "   WHERE u2.author_id = u.author_id AND j2.id < j.id "
            "   AND (j2.state IN ('queued', 'running') OR j2.updated_at >= j.created_at)) ASC, "
            " j.id ASC LIMIT 1", "I", now);
        if (!job) {
            cat_rollback(c);
            return 0;
        }
        id = json_integer_value(json_object_get(job, "id"));
        if (json_is_null(json_object_get(job, "update_id"))) {
            /* Its update was deleted: nothing to do. */
            cat_exec(c, "UPDATE jobs SET state = 'dropped', updated_at = ? WHERE id = ?", "II", now, id);
            cat_commit(c);
            json_decref(job);
            continue;
        }
        *update_id = json_integer_value(json_object_get(job, "update_id"));
        if (json_integer_value(json_object_get(job, "attempts")) >= JOB_MAX_ATTEMPTS) {
            const char *why = "processing stopped unexpectedly three times (the file may be damaged "
                              "or too demanding); try uploading it again";
            cat_exec(c, "UPDATE jobs SET state = 'failed', error = ?, updated_at = ? WHERE id = ?",
                     "sII", why, now, id);
            cat_exec(c, "UPDATE updates SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
                     "sII", why, now, *update_id);
            cat_commit(c);
            json_decref(job);
            continue;
        }
        hc_strlcpy(input, json_string_value(json_object_get(job, "input_path")), inputsz);
        json_decref(job);
        if (cat_exec(c, "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?, "
                        "lease_until = ?, heartbeat_at = ?, progress = 0, eta = NULL, updated_at = ? "
                        "WHERE id = ?", "sIIII", worker_id, now + job_lease, now, now, id) != 1 ||
            cat_exec(c, "UPDATE updates SET status = 'processing', updated_at = ? WHERE id = ?",
                     "II", now, *update_id) < 0 ||
            cat_commit(c) < 0) {
            cat_rollback(c);
            return -1;
        }
        return id;
    }
}

/* ---- the worker process ---- */

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

struct job_ctx {
    struct catalog *cat;
    int64_t job_id;
    int64_t update_id;
    const char *worker_id;
    double last_beat;
    double pct, eta;    /* the child's last progress report */
    int lost;
};

/* The heartbeat: extend the lease only if the job is still ours. Returns
 * 0, or 1 when it is not (deleted or taken over): stop. */
static int job_heartbeat(struct job_ctx *j)
{
    if (cat_exec(j->cat, "UPDATE jobs SET progress = ?, eta = ?, heartbeat_at = ?, lease_until = ?, "
                         "updated_at = ? WHERE id = ? AND worker = ? AND state = 'running' "
                         "AND update_id IS NOT NULL",
                 "ddIIIIs", j->pct, j->eta >= 0 ? j->eta : -1.0, (int64_t)hc_now(),
                 (int64_t)hc_now() + job_lease, (int64_t)hc_now(), j->job_id, j->worker_id) == 0) {
        j->lost = 1;
        return 1;
    }
    return 0;
}

/* Hand the job back to the queue: without spending an attempt when this
 * worker is stopping, spending one when its child died. */
static void job_requeue(struct job_ctx *j, int spend)
{
    if (!spend)
        cat_exec(j->cat, "UPDATE jobs SET state = 'queued', attempts = attempts - 1, worker = NULL "
                         "WHERE id = ? AND worker = ?", "Is", j->job_id, j->worker_id);
    else
        cat_exec(j->cat, "UPDATE jobs SET state = 'queued', worker = NULL, updated_at = ? "
                         "WHERE id = ? AND worker = ? AND state = 'running'", "IIs",
                 (int64_t)hc_now(), j->job_id, j->worker_id);
}

/* The job failed for a reason a person can read. */
static void job_failed(struct job_ctx *j, const char *msg)
{
    int64_t now = (int64_t)hc_now();

    hc_log("worker %s: job %lld failed: %s", j->worker_id, (long long)j->job_id, msg);
    if (cat_begin(j->cat) == 0) {
        cat_exec(j->cat, "UPDATE jobs SET state = 'failed', error = ?, updated_at = ? WHERE id = ?",
                 "sII", msg, now, j->job_id);
        cat_exec(j->cat, "UPDATE updates SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
                 "sII", msg, now, j->update_id);
        cat_commit(j->cat);
    }
}

static void limit(int res, rlim_t v)
{
    struct rlimit rl = { v, v };
    if (setrlimit(res, &rl) < 0)
        hc_log("worker: setrlimit(%d): %s", res, strerror(errno));
}

/* The worker's own limits and no network; each job child gets tighter
 * limits of its own (sandbox.h) and inherits the network namespace. */
static void confine(void)
{
#ifndef HAVE_SANITIZERS
    /* ASan reserves terabytes of address space, so only plain builds cap it. */
    limit(RLIMIT_AS, (rlim_t)6 << 30);
#endif
    limit(RLIMIT_FSIZE, (rlim_t)32 << 30);
    limit(RLIMIT_NOFILE, 256);
    limit(RLIMIT_CORE, 0);
#ifdef HAVE_UNSHARE
    /* No network: a fresh network namespace has only a down loopback. */
    if (unshare(CLONE_NEWNET) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        hc_log("worker: cannot drop network access (unshare: %s); relying on the "
               "transcoder's file-only input rules", strerror(errno));
#endif
}

/* Work folders of earlier attempts at this update (a worker that died)
 * are this worker's to remove: it holds the job's claim now. */
static void sweep_work_folders(const struct conf *conf, int64_t update_id)
{
    char dir[1100], prefix[64], path[1400];
    DIR *d;
    struct dirent *e;

    snprintf(dir, sizeof(dir), "%s/media", conf->data_dir);
    snprintf(prefix, sizeof(prefix), "%lld.work-", (long long)update_id);
    if (!(d = opendir(dir)))
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
        }
    }
    *status = jc_finish(child, !ended);
    return got;
}

/* Publish the finished work folder and record the update as ready. */
static int job_done(const struct conf *conf, struct job_ctx *j, const char *work,
                    const char *out, const struct tc_result *res)
{
    struct catalog *cat = j->cat;
    int64_t job_id = j->job_id, update_id = j->update_id, now;
    int rc;

    if ((rc = sandbox_give_back(work)) < 0 || (rc = tc_work_publish(work, out)) < 0) {
        hc_log("worker %s: job %lld: publishing %s: %s", j->worker_id, (long long)job_id,
               work, strerror(-rc));
        hc_rmtree(work);
        job_failed(j, "the output folder cannot be published");
        return 0;
    }
    now = (int64_t)hc_now();
    if (cat_begin(cat) < 0)
        return -1;
    if (!cat_int(cat, 0, "SELECT COUNT(*) FROM updates WHERE id = ?", "I", update_id)) {
        cat_rollback(cat);
        hc_rmtree(out);
        cat_exec(cat, "UPDATE jobs SET state = 'dropped' WHERE id = ?", "I", job_id);
        return 0;
    }
    cat_exec(cat, "DELETE FROM renditions WHERE update_id = ?", "I", update_id);
    for (int i = 0; i < res->nrungs; i++)
        cat_insert(cat, "INSERT INTO renditions(update_id, name, width, height, bandwidth, avg_bandwidth, codecs) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", "Isiiiis", update_id, res->rungs[i].name,
                   res->rungs[i].width, res->rungs[i].height, res->rungs[i].bandwidth,
                   res->rungs[i].avg_bandwidth, res->rungs[i].codecs);
    if (cat_exec(cat, "UPDATE updates SET status = 'ready', error = '', duration = ?, width = ?, height = ?, "
                      "ready_at = ?, updated_at = ? WHERE id = ?", "diiIII", res->duration, res->width,
                 res->height, now, now, update_id) < 0 ||
        cat_exec(cat, "UPDATE jobs SET state = 'done', progress = 100, eta = 0, updated_at = ? WHERE id = ?",
                 "II", now, job_id) < 0 ||
        mail_on_update_ready(cat, conf, update_id) < 0 ||
        cat_commit(cat) < 0) {
        cat_rollback(cat);
        return -1;
    }
    hc_log("worker %s: job %lld done: %d rungs, %.1f s", j->worker_id, (long long)job_id,
           res->nrungs, res->duration);
    return 0;
}

/*
 * Run one claimed job: open the upload and a fresh work folder here (the
 * child gets them as descriptors and can open nothing else), start the job
 * child, watch it, then publish and report.
 */
static int run_job(const struct conf *conf, struct catalog *cat, const char *worker_id,
                   int64_t job_id, int64_t update_id, const char *input)
{
    char out[1200], work[1300], how[96];
    struct jc_spec spec;
    struct jc_child child;
    struct tc_result res;
    struct job_ctx ctx = { cat, job_id, update_id, worker_id, 0, 0, -1, 0 };
    int in_fd, work_fd, got, timed_out, status, rc;

    snprintf(out, sizeof(out), "%s/media/%lld", conf->data_dir, (long long)update_id);
    hc_rmtree(out);     /* a previous attempt that died after publishing */
    sweep_work_folders(conf, update_id);
    memset(&spec, 0, sizeof(spec));
    if (sandbox_job_user(&spec.uid, &spec.gid) < 0) {
        hc_log("worker %s: there is no user `nobody` to run jobs as", worker_id);
        return -1;
    }
    if ((in_fd = open(input, O_RDONLY | O_CLOEXEC)) < 0) {
        hc_log("worker %s: job %lld: cannot open %s: %s", worker_id, (long long)job_id, input,
               strerror(errno));
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
    spec.kind = JC_KIND_LADDER;
    spec.in_fd = in_fd;
    spec.work_fd = work_fd;
    spec.preset = conf->preset;
    spec.crf = conf->crf;
    spec.threads = conf->worker_threads;
    spec.max_duration = conf->max_duration;
    spec.deadline = conf->job_deadline;
    spec.test_clock = conf->test_clock;
    hc_log("worker %s: job %lld: transcoding update %lld", worker_id, (long long)job_id, (long long)update_id);
    rc = jc_start(&spec, &child);
    close(in_fd);
    close(work_fd);
    if (rc < 0) {
        hc_log("worker %s: job %lld: cannot start a job child: %s", worker_id, (long long)job_id,
               strerror(-rc));
        hc_rmtree(work);
        job_requeue(&ctx, 0);
        return -1;
    }
    memset(&res, 0, sizeof(res));
    ctx.last_beat = hc_monotonic();
    got = watch_child(conf, &ctx, &child, &res, &timed_out, &status);
    if (ctx.lost || stopping) {
        hc_rmtree(work);
        if (stopping && !ctx.lost)   /* hand it back without spending an attempt */
            job_requeue(&ctx, 0);
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
    return job_done(conf, &ctx, work, out, &res);
}

int cmd_worker(int argc, char **argv)
{
    struct conf conf;
    struct catalog *cat;
    char worker_id[64], input[1100];
    int n, rc;
    int64_t job, update_id;

    conf_defaults(&conf);
    if ((rc = conf_load(&conf, OPT_DATA | OPT_MEDIA, argc, argv, &n)) != 0) {
        if (rc > 0) {
            puts("Usage: hubcast worker [--data DIR] [OPTIONS]\n\n"
                 "Claim transcode jobs from the catalog and run them until SIGTERM.\n"
                 "`hubcast serve` starts and supervises these; one can also run alone.\n");
            conf_usage(OPT_DATA | OPT_MEDIA);
        }
        return rc > 0 ? 0 : 2;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    hc_clock_init(conf.test_clock);
    catalog_fault_init(conf.test_clock);
    if (conf.test_clock && getenv("HUBCAST_JOB_LEASE")) {
        long v;
        if (hc_parse_long(getenv("HUBCAST_JOB_LEASE"), 2, 3600, &v) == 0)
            job_lease = (int)v;
    }
    confine();
    if (!(cat = hc_open_catalog(&conf, 0)))
        return 1;
    snprintf(worker_id, sizeof(worker_id), "%d-%lld", (int)getpid(), (long long)time(NULL));
    while (!stopping) {
        job = worker_claim(cat, worker_id, &update_id, input, sizeof(input));
        if (job > 0) {
            run_job(&conf, cat, worker_id, job, update_id, input);
            continue;
        }
        for (int i = 0; i < 10 && !stopping; i++)
            usleep(100 * 1000);
    }
    catalog_close(cat);
    return 0;
}

/* ---- the supervisor, inside `hubcast serve` ---- */

#define MAX_WORKERS 64

static const struct conf *sup_conf;
static pid_t workers[MAX_WORKERS];
static double started[MAX_WORKERS];
static int nworkers;
static volatile int sup_stop;
static pthread_t sup_thread;

static pid_t spawn(void)
{
    char threads[16], crf[16], maxdur[16], deadline[16];
    pid_t pid;

    snprintf(threads, sizeof(threads), "%d", sup_conf->worker_threads);
    snprintf(crf, sizeof(crf), "%d", sup_conf->crf);
    snprintf(maxdur, sizeof(maxdur), "%d", sup_conf->max_duration);
    snprintf(deadline, sizeof(deadline), "%d", sup_conf->job_deadline);
    pid = fork();
    if (pid == 0) {
        sigset_t all;
        char *args[] = { "hubcast", "worker", "--data", (char *)sup_conf->data_dir,
                         "--worker-threads", threads, "--preset", (char *)sup_conf->preset,
                         "--crf", crf, "--max-duration", maxdur, "--job-deadline", deadline,
                         sup_conf->test_clock ? "--test-clock" : NULL, NULL };
        sigemptyset(&all);
        pthread_sigmask(SIG_SETMASK, &all, NULL);
#ifdef HAVE_SYS_PRCTL_H
        /* A worker does not outlive its server (even one killed with SIGKILL). */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
            _exit(0);
#endif
        execv(hc_self_path, args);
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
            workers[i] = spawn();
            started[i] = hc_monotonic();
        }
        usleep(200 * 1000);
    }
    return NULL;
}

int supervisor_start(const struct conf *conf, int n)
{
    sup_conf = conf;
    nworkers = n > MAX_WORKERS ? MAX_WORKERS : n;
    for (int i = 0; i < nworkers; i++) {
        workers[i] = spawn();
        started[i] = hc_monotonic();
    }
    return pthread_create(&sup_thread, NULL, supervise, NULL) == 0 ? 0 : -1;
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
