/*
 * search.h - GET /api/search: what a person may see that matches their
 * words, across update titles, descriptions, check-in answers and
 * comments (the index and the visibility rule are in db/db_search).
 */
#ifndef HUBCAST_SEARCH_H
#define HUBCAST_SEARCH_H

#include <stddef.h>
#include <jansson.h>
#include "router.h"

struct db_search_hit;

extern const struct route search_routes[];
extern const size_t search_nroutes;

/* A snippet with its marks (DB_SEARCH_MARK_ON/OFF) as plain text (marks
 * dropped, html == 0) or as HTML (text escaped, marks as <mark>). A new
 * JSON string; "" when s is not valid UTF-8. */
json_t *search_snippet_json(const char *s, int html);

#endif
