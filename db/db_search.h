/*
 * db_search.h - full-text search over update titles, descriptions,
 * check-in answers and comments, filtered by the one visibility rule:
 * SQLite FTS5 (migration 006), PostgreSQL tsvectors with the unaccent
 * dictionary (pg/011). Typed functions returning enum db_rc (catalog.h).
 * Triggers note every change of an update's or a comment's text;
 * db_search_refresh re-indexes those before a search reads the index.
 * Not here: the JSON of a result (src/search.c).
 *
 * Both engines: words are matched whole, case and accents ignored, no
 * stemming; every word must match and the last may be the start of one
 * (as the search box is typed); a hyphenated word is its parts. Results
 * are ranked best first, a title word weighing five times a word of a
 * description, an answer or a comment, then newest first. Differences:
 * PostgreSQL keeps e-mail addresses, host names and URLs as one word
 * each, and its ranks and snippet windows are its own (ts_rank,
 * ts_headline), so equal-looking hits may come in another order.
 */
#ifndef HUBCAST_DB_SEARCH_H
#define HUBCAST_DB_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "db_updates.h"     /* struct db_viewer */

#define DB_SEARCH_QUERY_MAX 200     /* bytes of a person's search text */
#define DB_SEARCH_TERMS_MAX 16      /* words of it that are searched for */
#define DB_SEARCH_LIMIT_MAX 50      /* results of one search */

/* Around each matched word in a snippet. Neither byte can be in stored
 * text (titles, descriptions and comments refuse control characters). */
#define DB_SEARCH_MARK_ON  "\x02"
#define DB_SEARCH_MARK_OFF "\x03"

/* One match. */
struct db_search_hit {
    int64_t update_id;      /* the update the text belongs to */
    int64_t comment_id;     /* the comment that matched; 0: the update's own text */
    int     has_at;         /* the comment is pinned to a time */
    double  at_seconds;     /* that time, seconds into the video */
    char   *snippet;        /* malloc'd: the text around the match, words marked */
};
/* Free an array of n hits and the array; *hits becomes NULL. */
void db_search_hits_free(struct db_search_hit **hits, size_t n);

/*
 * Turn a person's words into an FTS5 query that cannot be a syntax error:
 * each run of non-blank bytes becomes one quoted string ("" inside), runs
 * without a letter or digit are dropped, at most DB_SEARCH_TERMS_MAX are
 * kept, all must match, and the last may be the start of a word. Returns
 * the number of terms (0: nothing to search for; out is ""), or
 * DB_INVALID when words is longer than DB_SEARCH_QUERY_MAX bytes or out
 * is too small (outsz >= 4 * DB_SEARCH_QUERY_MAX is always enough).
 */
int db_search_expr(const char *words, char *out, size_t outsz);

/*
 * Bring the index in step with the catalog: re-index the updates and
 * comments that triggers marked in search_stale, in one transaction.
 * db_search calls it first; it writes only when something changed. DB_OK
 * (*n, if given, receives how many rows were re-indexed), or a negative
 * db_rc (nothing changed: the index answers as it was).
 */
int db_search_refresh(struct catalog *c, int *n);

/*
 * What v may see that matches words, best first, at most limit
 * (1..DB_SEARCH_LIMIT_MAX) hits: an update whose title, description or
 * answers match is one hit, each matching comment another. DB_OK with
 * *out (free with db_search_hits_free; NULL when *n is 0) and *n;
 * DB_INVALID when words is too long (see db_search_expr); or a negative
 * db_rc with *out NULL. The index is refreshed first (db_search_refresh);
 * when that fails (a busy or full catalog) the search still answers from
 * the index as it was: it can only be behind, never show what v may not
 * see, since every hit is checked against the live updates table.
 */
int db_search(struct catalog *c, const struct db_viewer *v, const char *words, long limit,
              struct db_search_hit **out, size_t *n);

#endif
