/*
 * db_visible.h - the one visibility rule as an SQL condition, for the db/
 * modules whose queries must apply it (db_updates.c, db_search.c). Not for
 * src/: handlers ask db_update_get / db_update_list / db_search, which
 * apply it. What it says is documented in db_updates.h.
 *
 * The condition names the update as `u` and binds two named parameters,
 * :viewer (the asker's user id) and :admin (1 for an administrator), so
 * that every query binds it the same way.
 */
#ifndef HUBCAST_DB_VISIBLE_H
#define HUBCAST_DB_VISIBLE_H

/* Its author always; others once it is published (its upload ended) and
 * either ready or, while the ladder runs, playable from its first
 * rendition; administrators every published update. */
#define DB_VISIBLE "(u.author_id = :viewer OR (u.published_at IS NOT NULL AND (u.status = 'ready' " \
                   "OR :admin = 1 OR (u.status IN ('queued', 'processing') " \
                   "AND u.first_ready_at IS NOT NULL))))"

#endif
