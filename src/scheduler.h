/*
 * scheduler.h - periodic work inside `hubcast serve`: expiring abandoned
 * uploads, weekly reminders, daily and weekly digests.
 */
#ifndef HUBCAST_SCHEDULER_H
#define HUBCAST_SCHEDULER_H

struct conf;

int  scheduler_start(const struct conf *conf);
void scheduler_stop(void);

#endif
