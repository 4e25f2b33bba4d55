/*
 * db_uploads.h - the data layer for tus uploads in progress: offsets, metadata, expiry. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_UPLOADS_H
#define HUBCAST_DB_UPLOADS_H

#include "catalog.h"

#endif
