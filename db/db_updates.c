/*
 * db_updates.c - the update and job lifecycle (uploading, queued, processing, ready, failed, deleted), renditions, leases, and the one visibility rule: every SQL statement about them.
 */
#include "config.h"

#include "db_updates.h"
