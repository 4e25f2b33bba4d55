/*
 * db_updates.c - the update and job lifecycle (uploading, queued, processing, ready, failed, deleted), renditions, leases, and the one visibility rule: every SQL statement about them.
 */
#include "config.h"

#include "db_updates.h"

/* ---- used by /metrics ---- */

int db_job_count_state(struct catalog *c, const char *state, int64_t *n)
{
    return cat_get_int(c, n, "SELECT COUNT(*) FROM jobs WHERE state = ?", "s", state);
}
