/*
 * db_updates.h - the data layer for the update and job lifecycle (uploading, queued, processing, ready, failed, deleted), renditions, leases, and the one visibility rule. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_UPDATES_H
#define HUBCAST_DB_UPDATES_H

#include "catalog.h"


#include <stdint.h>

/* ---- used by /metrics ---- */

/* How many transcode jobs are in state ("queued", "running", "done",
 * "failed", "dropped"). DB_OK with *n, or a negative db_rc. */
int db_job_count_state(struct catalog *c, const char *state, int64_t *n);

#endif
