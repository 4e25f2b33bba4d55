/*
 * leader.h - named leadership across every server of one catalog: the
 * scheduler and the mail sender run where it is held, and nowhere else.
 *
 * On SQLite (one machine, one data folder) this process is always the
 * leader. On PostgreSQL the leadership is a session advisory lock
 * (pg_try_advisory_lock) on a connection of its own: held while that
 * connection lives, released by the server the moment the holder's
 * process dies (its connection closes) or, for a machine that vanished,
 * once TCP keepalives give up on it (about 30 s). Another server's next
 * leader_hold() then takes it over.
 */
#ifndef HUBCAST_LEADER_H
#define HUBCAST_LEADER_H

#include <stddef.h>

struct leader;

/* A contender for leadership `name` on the catalog at `catalog` (a path or
 * a postgresql:// URL). NULL with err set when PostgreSQL is unreachable. */
struct leader *leader_open(const char *catalog, const char *name, char *err, size_t errsz);

/*
 * Whether this process leads now: 1 if it does (taking the leadership if
 * it was free), 0 if another process does, or a negative enum db_rc when
 * the catalog cannot be asked (then it does not lead: work that must run
 * once waits). Call it before each round of leader-only work; it checks
 * that the lock is still held, so a lost connection is seen.
 */
int leader_hold(struct leader *l);

/* Give the leadership up (if held) and close. */
void leader_close(struct leader *l);

#endif
