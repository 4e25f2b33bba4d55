/*
 * updates.h - the updates API: listing by week and person, one update with
 * its status, progress and playback URLs, edits, deletion, the week view,
 * views, comments and reactions.
 */
#ifndef HUBCAST_UPDATES_H
#define HUBCAST_UPDATES_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "router.h"

struct catalog;
struct conf;

extern const struct route update_routes[];
extern const size_t update_nroutes;

/* The JSON of one update as the viewer sees it, or NULL if none. */
json_t *updates_json(struct catalog *c, const struct conf *conf, int64_t id, int64_t viewer);

#endif
