/*
 * worker.h - the transcode job queue in the catalog (claim with a lease,
 * heartbeat, retry, fail with a reason) and the worker process around it.
 */
#ifndef HUBCAST_WORKER_H
#define HUBCAST_WORKER_H

#include "wake.h"

#include <signal.h>
#include <stdint.h>

struct catalog;
struct conf;

#define JOB_LEASE        60     /* seconds a claim lasts without a heartbeat */
#define JOB_HEARTBEAT    1      /* seconds between progress/lease updates */
#define JOB_MAX_ATTEMPTS 3

/* Priority of a job: all-hands first. */
#define JOB_PRIO_ALLHANDS 10
#define JOB_PRIO_WEEKLY   0

/* Claim the next job fairly (all-hands first, then one per author in
 * turn). Returns the job id, 0 if none, -1 on error. */
int64_t worker_claim(struct catalog *c, const char *worker_id, int64_t *update_id,
                     char *input, size_t inputsz);

/* The supervisor side: start N ladder worker processes (and, when
 * first-playable is on, one first-lane worker) and restart them. */
int  supervisor_start(const struct conf *conf, int n);
void supervisor_stop(void);

/* Wake supervised workers now (SIGUSR1) rather than at their next poll
 * (WORKER_WAKE_* of wake.h). supervisor_start() installs it as wake.h's
 * hook; safe from any thread; does nothing without a supervisor. */
void worker_wake(int which);

/* The first lane inside `hubcast worker --lane first` (firstlane.c): run
 * up to conf->first_jobs first-playable jobs at once until *stop. */
int first_lane_run(const struct conf *conf, struct catalog *cat, const char *worker_id,
                   volatile sig_atomic_t *stop, volatile sig_atomic_t *woken);
/* One claimed first job to its end (a worker of lane `any`). */
struct db_job;
int first_lane_run_one(const struct conf *conf, struct catalog *cat, const char *worker_id,
                       const struct db_job *job, volatile sig_atomic_t *stop);

/* db_job_claim_lane with the worker's lease and attempts: DB_OK with *job,
 * DB_NOTFOUND, or a negative db_rc (logged). */
int worker_claim_job(struct catalog *c, int lane, const char *worker_id, struct db_job *job);
/* Seconds a claim lasts without a heartbeat (tests may shorten it). */
int worker_lease(void);

/*
 * Open the source of update_id's job (the catalog's input path) for a job
 * child, read-only, in *fd: the stored file itself, or with an S3 media
 * store a copy downloaded into the worker's data folder, removed as soon
 * as it is open (the descriptor keeps its bytes until closed). 0; 1 when
 * it cannot be had (no such file or object: the job fails); -1 when the
 * store failed (hand the job back). Reasons are logged.
 */
int worker_open_source(const struct conf *conf, int64_t update_id, const char *input, int *fd);

#endif
