/*
 * db_habit.h - the data layer for participation and streak statistics for pages, reminders and digests. Typed functions returning enum db_rc
 * (catalog.h); no caller outside db/ sees SQL.
 */
#ifndef HUBCAST_DB_HABIT_H
#define HUBCAST_DB_HABIT_H

#include "catalog.h"

#endif
