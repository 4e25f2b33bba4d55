/*
 * db_social.c - views, comments and reactions: every SQL statement about them.
 */
#include "config.h"

#include "db_social.h"
