/*
 * habit.h - the weekly habit made visible: streaks per person,
 * participation per week and per team.
 */
#ifndef HUBCAST_HABIT_H
#define HUBCAST_HABIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "router.h"

/* The numbers themselves are in db/db_habit.h. */

extern const struct route habit_routes[];
extern const size_t habit_nroutes;

#endif
