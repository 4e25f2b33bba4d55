/*
 * db_social.h - the data layer for views, comments and reactions. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_SOCIAL_H
#define HUBCAST_DB_SOCIAL_H

#include "catalog.h"

#endif
