/*
 * db_uploads.c - tus uploads in progress: offsets, metadata, expiry: every SQL statement about them.
 */
#include "config.h"

#include "db_uploads.h"
