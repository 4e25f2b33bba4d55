/*
 * cmd_serve.c - `hubcast serve`: migrate the catalog, print the first-run
 * setup link, start the HTTP server, the scheduler and the workers, and on
 * SIGTERM/SIGINT stop accepting, let in-flight requests finish, stop the
 * workers and close the catalog. One serve per data folder with a local
 * SQLite catalog: a second one on the same folder stops at once
 * (serve.lock); with PostgreSQL there is no such lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "catalog.h"
#include "catalog_pg.h"
#include "commands.h"
#include "conf.h"
#include "db_accounts.h"
#include "http.h"
#include "habit.h"
#include "onboarding.h"
#include "mail.h"
#include "media.h"
#include "updates.h"
#include "uploads.h"
#include "routes.h"
#include "picture.h"
#include "jobchild.h"
#include "scheduler.h"
#include "store.h"
#include "util.h"
#include "worker.h"

static int dir_has_index(const char *dir)
{
    char p[1200];
    struct stat st;
    snprintf(p, sizeof(p), "%s/index.html", dir);
    return stat(p, &st) == 0;
}

static void resolve_defaults(struct conf *c)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char addr[128];
    int port;

    if (ncpu < 1)
        ncpu = 1;
    if (!c->web_dir[0]) {
        if (dir_has_index(HUBCAST_WEBDIR))
            hc_strlcpy(c->web_dir, HUBCAST_WEBDIR, sizeof(c->web_dir));
        else
            snprintf(c->web_dir, sizeof(c->web_dir), "%s/web", HUBCAST_SRCDIR);
    }
    if (c->workers < 0)
        c->workers = ncpu / 2 > 0 ? (int)(ncpu / 2) : 1;
    /* x264 threads per worker stay 0 (x264 decides) unless set: measured
     * in bench/README.md, automatic finishes one video sooner with less CPU
     * than cores / workers, and two at once are as fast either way. */
    if (!c->public_url[0] && conf_listen_split(c->listen, addr, sizeof(addr), &port) == 0)
        snprintf(c->public_url, sizeof(c->public_url), "http://localhost:%d", port);
}

/*
 * Take DATA/serve.lock (flock, held until the process ends) so that two
 * servers never share one data folder and its local SQLite catalog. The
 * lock goes with the process, even after SIGKILL; the file keeps the pid
 * of its holder for the message. Returns the descriptor to keep open, or
 * -1 with the reason logged.
 */
static int lock_data_folder(const struct conf *c)
{
    char path[1100], pid[32] = "";
    ssize_t n;
    int fd;

    if (hc_mkdirs(c->data_dir, 0700) < 0) {
        hc_log("cannot create the data folder %s: %s", c->data_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/serve.lock", c->data_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        hc_log("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            n = pread(fd, pid, sizeof(pid) - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            hc_log("cannot start: the data folder %s is in use by another hubcast serve%s%s%s; "
                   "stop it first, or give this one another --data", c->data_dir,
                   *pid ? " (pid " : "", pid, *pid ? ")" : "");
        } else {
            hc_log("cannot lock %s: %s", path, strerror(e));
        }
        close(fd);
        return -1;
    }
    n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        hc_log("cannot write %s: %s (the lock holds anyway)", path, strerror(errno));
    return fd;
}

static void print_setup_link(struct catalog *cat, const struct conf *c)
{
    char token[TOKEN_CHARS];
    int64_t users = 0;
    int rc;

    if ((rc = db_user_count(cat, &users)) < 0) {
        hc_log("cannot tell whether an administrator exists (%s); no setup link printed", db_rc_name(rc));
        return;
    }
    if (users > 0)
        return;
    /* One live setup link at a time: a restart replaces the old one. */
    if ((rc = db_invite_drop_setup(cat)) < 0 ||
        auth_invite_create(cat, DB_LINK_SETUP, "", "", ROLE_ADMIN, 0, NULL, SETUP_TTL, token, sizeof(token)) < 0) {
        hc_log("cannot create the setup link (%s)", db_rc_name(rc < 0 ? rc : DB_ERROR));
        return;
    }
    printf("\nHubcast has no administrator yet. Open this link within 24 hours to create one:\n\n"
           "    %s/setup#token=%s\n\n", c->public_url, token);
    fflush(stdout);
}

int cmd_serve(int argc, char **argv)
{
    struct conf c;
    struct catalog *cat;
    sigset_t set;
    int n, rc, sig, lockfd = -1;
    char err[512];
    double deadline;
    struct route_table tables[ROUTES_MAX];
    size_t ntables = routes_all(tables, ROUTES_MAX);

    conf_defaults(&c);
    if ((rc = conf_load(&c, OPT_SERVE | OPT_MEDIA | OPT_MAIL, argc, argv, &n)) != 0) {
        if (rc > 0) {
            puts("Usage: hubcast serve [OPTIONS]\n\n"
                 "Serve the web app and the API, run the scheduler, and supervise the\n"
                 "transcode workers. On an empty catalog, prints a one-time link that\n"
                 "creates the first administrator.\n");
            conf_usage(OPT_SERVE | OPT_MEDIA | OPT_MAIL);
        }
        return rc > 0 ? 0 : 2;
    }
    if (n > 0) {
        fprintf(stderr, "hubcast: serve takes no arguments (\"%s\"); see --help\n", argv[0]);
        return 2;
    }
    resolve_defaults(&c);
    hc_clock_init(c.test_clock);
    catalog_fault_init(c.test_clock);
    /* A local SQLite catalog belongs to one server: lock its data folder.
     * Servers sharing a PostgreSQL catalog share nothing on disk. */
    if (!catpg_is_url(c.database) && (lockfd = lock_data_folder(&c)) < 0)
        return 1;
    if (!(cat = hc_open_catalog(&c, 1))) {
        if (lockfd >= 0)
            close(lockfd);
        return 1;
    }
    print_setup_link(cat, &c);
    if (store_init(&c, err, sizeof(err)) < 0) {
        hc_log("cannot use the media store: %s", err);
        catalog_close(cat);
        return 1;
    }
    if (media_init(cat, &c) < 0) {
        hc_log("cannot prepare media delivery in %s/media", c.data_dir);
        catalog_close(cat);
        return 1;
    }

    /* Signals are taken synchronously by this thread only. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Pictures people upload are decoded by a confined job child. */
    picture_set_converter(jc_run_avatar);
    if (http_start(&c, tables, ntables) < 0) {
        catalog_close(cat);
        return 1;
    }
    scheduler_start(&c);
    mail_start(&c);
    if (c.workers > 0 && supervisor_start(&c, c.workers) < 0)
        hc_log("cannot start the worker supervisor");
    hc_log("hubcast %s listening on %s (%s), data in %s, %d workers x %d threads",
           PACKAGE_VERSION, c.listen, c.public_url, c.data_dir, c.workers, c.worker_threads);

    while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
        ;
    hc_log("signal %d: stopping (finishing requests in flight)", sig);
    http_quiesce();
    deadline = hc_monotonic() + 15;
    while (http_inflight() > 0 && hc_monotonic() < deadline)
        usleep(20 * 1000);
    http_stop();
    media_close();
    store_close();
    scheduler_stop();
    mail_stop();
    supervisor_stop();
    catalog_close(cat);
    hc_log("stopped");
    if (lockfd >= 0)
        close(lockfd);
    return 0;
}
