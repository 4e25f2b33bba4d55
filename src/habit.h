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

struct catalog;

/* Who posted in week and who could have (active members who had joined by
 * week_end), as on the participation page. 0 on success. */
int habit_week_counts(struct catalog *c, const char *week, time_t week_end,
                      int64_t *posted, int64_t *active);

extern const struct route habit_routes[];
extern const size_t habit_nroutes;

#endif
