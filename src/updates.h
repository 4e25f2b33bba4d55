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
struct db_viewer;
struct req;

extern const struct route update_routes[];
extern const size_t update_nroutes;

/* The person making request r, for the visibility rule. */
void updates_viewer(const struct req *r, struct db_viewer *v);

/* The JSON of update id as v sees it: DB_OK with *out, DB_NOTFOUND (no
 * such update, or v may not see it), or a negative db_rc. */
int updates_get_json(struct catalog *c, const struct db_viewer *v, int64_t id, json_t **out);

#endif
