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

/* Its author always; everyone once it is ready, or, while its ladder
 * runs (queued, processing), once its first rendition is playable;
 * administrators every update but a recording still uploading. An
 * `uploading` update (a live recording) is unpublished: its author's
 * alone until its upload ends. */
#define DB_VISIBLE "(u.status = 'ready' OR u.author_id = :viewer " \
                   "OR (:admin = 1 AND u.status <> 'uploading') " \
                   "OR (u.status IN ('queued', 'processing') AND u.first_ready_at IS NOT NULL))"

#endif
