/*
 * db_updates.h - the data layer for the update and job lifecycle (uploading, queued, processing, ready, failed, deleted), renditions, leases, and the one visibility rule. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_UPDATES_H
#define HUBCAST_DB_UPDATES_H

#include "catalog.h"

#endif
