/*
 * scheduler.c - one thread that wakes every few seconds, reads the one
 * clock (hc_now) and does what is due.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "catalog.h"
#include "conf.h"
#include "scheduler.h"
#include "util.h"

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int stopping, running;

/* Abandoned uploads: remove their bytes and their row. */
static void expire_uploads(struct catalog *cat, const struct conf *c)
{
    json_t *rows = cat_rows(cat, "SELECT id FROM uploads WHERE update_id IS NULL AND expires_at < ?",
                            "I", (int64_t)hc_now());
    size_t i;
    json_t *u;

    json_array_foreach(rows, i, u) {
        char part[1200];
        const char *id = json_string_value(json_object_get(u, "id"));
        snprintf(part, sizeof(part), "%s/uploads/%s.part", c->data_dir, id);
        unlink(part);
        cat_exec(cat, "DELETE FROM uploads WHERE id = ?", "s", id);
        hc_log("scheduler: removed abandoned upload %s", id);
    }
    json_decref(rows);
}

static void *run(void *arg)
{
    const struct conf *c = arg;
    char err[512], path[1100];
    struct catalog *cat;
    struct timespec ts;

    catalog_path(c->data_dir, path, sizeof(path));
    cat = catalog_open(path, 0, err, sizeof(err));
    if (!cat) {
        hc_log("scheduler: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&lock);
    while (!stopping) {
        pthread_mutex_unlock(&lock);
        expire_uploads(cat, c);
        pthread_mutex_lock(&lock);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5;
        if (!stopping)
            pthread_cond_timedwait(&wake, &lock, &ts);
    }
    pthread_mutex_unlock(&lock);
    catalog_close(cat);
    return NULL;
}

int scheduler_start(const struct conf *conf)
{
    if (pthread_create(&thread, NULL, run, (void *)conf) != 0)
        return -1;
    running = 1;
    return 0;
}

void scheduler_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    running = 0;
}
