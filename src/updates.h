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
struct db_answer;
struct db_viewer;
struct req;

#define UPDATES_MAX_ANSWERS 10   /* check-in answers of one update */

extern const struct route update_routes[];
extern const size_t update_nroutes;

/* The person making request r, for the visibility rule. */
void updates_viewer(const struct req *r, struct db_viewer *v);

/* The JSON of update id as v sees it: DB_OK with *out, DB_NOTFOUND (no
 * such update, or v may not see it), or a negative db_rc. */
int updates_get_json(struct catalog *c, const struct db_viewer *v, int64_t id, json_t **out);
/* The same for n updates, read together (one statement per kind of row,
 * not per update): out[i] a new reference, or NULL when there is no such
 * update or v may not see it. DB_OK or a negative db_rc (every out[i] NULL). */
int updates_gets_json(struct catalog *c, const struct db_viewer *v, const int64_t *ids, size_t n, json_t **out);

/*
 * The check-in answers in arr, as PATCH and the tus metadata take them: a
 * list of at most UPDATES_MAX_ANSWERS {prompt, text}, each prompt 1 to 200
 * bytes and each text at most 1000, no NUL. Returns 0 with out[0..*n)
 * (empty answers left out), or -1 when arr is not such a list (*n is then
 * 0 and out means nothing).
 */
int updates_answers_parse(const json_t *arr, struct db_answer *out, size_t *n);

#endif
