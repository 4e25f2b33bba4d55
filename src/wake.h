/*
 * wake.h - telling the transcode workers that there is work now, rather
 * than at their next poll: a job was queued (all of them), or a live
 * upload's confirmed offset moved (the first lane). The request handlers
 * (libhubcast) call wake_workers(); the supervisor inside `hubcast serve`
 * installs how (signals to the workers it started). Without a supervisor
 * (tests, fuzzers, `hubcast worker` alone) it does nothing.
 */
#ifndef HUBCAST_WAKE_H
#define HUBCAST_WAKE_H

#define WORKER_WAKE_FIRST 1     /* the first lane */
#define WORKER_WAKE_ALL   3     /* every worker */

/* Install fn as what wake_workers() does (NULL: nothing). Called before
 * the HTTP threads start and after they stop. */
void wake_set(void (*fn)(int which));

/* Wake `which` workers. Safe from any thread; never blocks. */
void wake_workers(int which);

#endif
