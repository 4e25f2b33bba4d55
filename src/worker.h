/*
 * worker.h - the transcode job queue in the catalog (claim with a lease,
 * heartbeat, retry, fail with a reason) and the worker process around it.
 */
#ifndef HUBCAST_WORKER_H
#define HUBCAST_WORKER_H

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

/* The supervisor side: start N worker processes and restart them. */
int  supervisor_start(const struct conf *conf, int n);
void supervisor_stop(void);

#endif
