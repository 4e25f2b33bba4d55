/*
 * habit.h - the weekly habit made visible: streaks per person,
 * participation per week and per team, and recognition (@mentions, the
 * kudos a person received).
 */
#ifndef HUBCAST_HABIT_H
#define HUBCAST_HABIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "router.h"

/* The numbers themselves are in db/db_habit.h. */

struct catalog;
struct req;
struct resp;

/*
 * Recognition. A mention is "@" followed by a person's handle, not right
 * after a letter or digit (so e-mail addresses are not mentions). A
 * person's handle is their first name, or their whole name without spaces
 * when another active person has the same first name; "@" with the whole
 * name without spaces always works too. Handles are compared folded:
 * lower case, accents removed (Zoë = zoe, Chloé = chloe), only letters
 * and digits kept (Jean-Pierre = jeanpierre), so "@zoe", "@Zoë" and
 * "@ZoeMartin" all name Zoë Martin.
 */

/* Record the mentions in the text of update_id (its description and
 * answers) or, with comment_id, of that comment (text), written by by_user
 * (who is never mentioned by themselves). Inside the caller's transaction.
 * 0, or a negative db_rc. */
int habit_mentions_update(struct catalog *c, int64_t update_id);
int habit_mentions_comment(struct catalog *c, int64_t update_id, int64_t comment_id, int64_t by_user,
                           const char *text);

/* GET /api/people?q=PREFIX: people whose handle or a word of whose name
 * starts with PREFIX (folded), for autocomplete: {people: [{id, name,
 * handle, title, team}]}, at most 10. */
int habit_people_search(struct req *r, struct resp *o);

extern const struct route habit_routes[];
extern const size_t habit_nroutes;

#endif
