/*
 * db_trim.h - trimming and media versions of an update: the span of the
 * original its ladder is made from, the version of its media being served
 * and the one being made. A new trim makes a new version (a new ladder
 * job); the served one is replaced only when the new one is published, so
 * segments cached as immutable are never overwritten. Typed functions
 * returning enum db_rc (catalog.h); one transaction each. Not here: the
 * rest of the update/job lifecycle (db_updates.h), the folders
 * (src/layout.h).
 *
 * Versions: 0 is the media of an update as first published; a job carries
 * the version it makes (jobs.media_version) and the span it keeps; the
 * newest version asked for is the highest of the update's jobs'. A job
 * finishing for an older version than the newest publishes nothing.
 */
#ifndef HUBCAST_DB_TRIM_H
#define HUBCAST_DB_TRIM_H

#include <stdint.h>

#include "catalog.h"
#include "db_updates.h"

/* The media of an update as the API shows them. */
struct db_media {
    int    version;             /* served: 0, or N for media/<id>/v<N>/ */
    int    latest;              /* newest asked for (>= version) */
    int    making;              /* a job for latest is queued or running */
    double progress;            /* 0..100 of that job */
    char   error[512];          /* why the job for latest failed; "" if not */
    int    trimmed;             /* trim_start/trim_end are set */
    double trim_start, trim_end; /* seconds of the original */
    double source_duration;     /* seconds of the original, 0 = not known yet */
};

/* DB_OK with *out, DB_NOTFOUND (no such update) or a negative db_rc. */
int db_update_media_state(struct catalog *c, int64_t id, struct db_media *out);
/* The same for n updates in one statement (a page of a list): out[i] and
 * found[i] = 1 for ids[i], found[i] = 0 when there is no such update.
 * DB_OK or a negative db_rc. */
int db_update_media_states(struct catalog *c, const int64_t *ids, size_t n, struct db_media *out, int *found);

/*
 * Set (clear = 0) or clear (clear = 1) the trim of update id to
 * [start, end) seconds of the original, in one transaction. When its
 * newest job is still queued, that job takes the span (no new version:
 * the trim rides along with the first ladder); otherwise a new job is
 * queued for version newest + 1 with the same input and priority, and the
 * update keeps its status and served media until that job finishes.
 * DB_OK with *version (the version that will carry the trim), DB_NOTFOUND
 * (no such update), DB_INVALID (the update has no job: nothing to make a
 * ladder from), or a negative db_rc (nothing changed).
 */
int db_update_trim(struct catalog *c, int64_t id, int clear, double start, double end,
                   int64_t now, int *version);

/* What a claimed job makes. */
struct db_job_media {
    int    version;             /* the media version it makes */
    int    trimmed;
    double trim_start, trim_end; /* seconds of the original when trimmed */
};
/* DB_OK with *out, DB_NOTFOUND (no such job) or a negative db_rc. */
int db_job_media(struct catalog *c, int64_t job_id, struct db_job_media *out);

/*
 * db_job_finish (db_updates.h) for a job making media version `version`:
 * running (worker_id's) -> done; its update processing | ready -> ready
 * with these renditions, duration and media_version = version, and the
 * original's length source_duration (0 leaves it as is); on_ready runs
 * inside the transaction only when the update was not ready yet (the
 * mails go once). *previous is the version served before. DB_OK;
 * DB_NOTFOUND when the update was deleted or a newer version was asked
 * for meanwhile (the job -> dropped: the output is the caller's to
 * remove); DB_INVALID when the job is not worker_id's running job; or a
 * negative db_rc (nothing changed: keep the output and report again).
 */
int db_job_finish_media(struct catalog *c, int64_t job_id, const char *worker_id,
                        const struct db_ready *r, int version, double source_duration,
                        int (*on_ready)(struct catalog *c, int64_t update_id, void *arg), void *arg,
                        int *previous);

#endif
