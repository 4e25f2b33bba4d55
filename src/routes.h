/*
 * routes.h - every module's route table, in the order the server looks
 * them up. The one list `hubcast serve` and the request fuzzer both use.
 */
#ifndef HUBCAST_ROUTES_H
#define HUBCAST_ROUTES_H

#include <stddef.h>

#include "http.h"

/* Fill out with at most max tables; returns how many there are. */
size_t routes_all(struct route_table *out, size_t max);

#define ROUTES_MAX 16

#endif
