/*
 * habit.c - streaks and participation, computed from the catalog.
 * First form: no routes yet.
 */
#include "config.h"

#include "habit.h"
#include "http.h"

const struct route habit_routes[] = {
    { "GET", "/api/participation", NULL, ROLE_MEMBER, 0, NULL },
};
const size_t habit_nroutes = 0;
