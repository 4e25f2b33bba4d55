/*
 * db_habit.c - participation and streak statistics for pages, reminders and digests: every SQL statement about them.
 */
#include "config.h"

#include "db_habit.h"
