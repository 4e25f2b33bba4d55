/*
 * jobchild.c - a transcode job in a process of its own; see jobchild.h.
 * The parent's side (start, messages, reaping) and the child's side
 * (`hubcast job-child`: confine, transcode the descriptors, report).
 *
 * Why fork and exec rather than fork alone: the child starts from a fresh
 * image, so nothing of the worker (its catalog connection, statement cache
 * and page cache, its environment) is even in its memory; AddressSanitizer
 * and LeakSanitizer start cleanly in it and check the job's own
 * allocations at exit; and the address-space limit applies to a process
 * that has reserved nothing yet.
 */
#include "config.h"

#include "jobchild.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "avatar.h"
#include "conf.h"
#include "picture.h"
#include "commands.h"
#include "sandbox.h"
#include "util.h"

extern char **environ;

/* Environment variables a job child keeps (the worker's may hold secrets). */
static const char *const kept_env[] = {
    "ASAN_OPTIONS=", "UBSAN_OPTIONS=", "LSAN_OPTIONS=", NULL
};
#define TEST_PROBE_ENV "HUBCAST_TEST_JOBCHILD_PROBE"         /* ladder children */
#define TEST_FIRST_PROBE_ENV "HUBCAST_TEST_FIRSTCHILD_PROBE"   /* first-pass children */

#define JC_MAX_ENV 8

/* Fill env (JC_MAX_ENV slots) with what the child may see. */
static void child_env(const struct jc_spec *s, char **env)
{
    int n = 0;

    for (char **e = environ; *e && n < JC_MAX_ENV - 1; e++) {
        int keep = 0;
        for (const char *const *k = kept_env; *k && !keep; k++)
            keep = !strncmp(*e, *k, strlen(*k));
        if (s->test_clock && (!strncmp(*e, TEST_PROBE_ENV "=", strlen(TEST_PROBE_ENV) + 1) ||
                              !strncmp(*e, TEST_FIRST_PROBE_ENV "=", strlen(TEST_FIRST_PROBE_ENV) + 1)))
            keep = 1;
        if (keep)
            env[n++] = *e;
    }
    env[n] = NULL;
}

/* In the forked process: limits, the three descriptors at 3, 4 and 5,
 * /dev/null as stdin, nothing else open, then exec. Never returns. */
static void child_exec(const struct jc_spec *s, int sock, pid_t parent,
                       char **argv, char **env)
{
    int in, work, ch, first = -1, null;
    sigset_t none;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* A job child does not outlive its worker. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
        _exit(127);
    if ((in = fcntl(s->in_fd, F_DUPFD, 10)) < 0 ||
        (work = fcntl(s->work_fd, F_DUPFD, 10)) < 0 ||
        (ch = fcntl(sock, F_DUPFD, 10)) < 0 ||
        (s->kind == JC_KIND_LADDER && s->first_fd > 0 &&
         (first = fcntl(s->first_fd, F_DUPFD, 10)) < 0) ||
        (null = open("/dev/null", O_RDWR)) < 0 ||
        dup2(null, 0) < 0 || dup2(in, JC_FD_INPUT) < 0 ||
        dup2(work, JC_FD_WORK) < 0 || dup2(ch, JC_FD_CHANNEL) < 0 ||
        (first >= 0 && dup2(first, JC_FD_FIRST) < 0))
        _exit(127);
    /* Everything else the worker holds: the catalog, the log pipes of
     * others, whatever it inherited. */
    for (int fd = first >= 0 ? JC_FD_FIRST + 1 : JC_FD_CHANNEL + 1, max = (int)sysconf(_SC_OPEN_MAX); fd < max && fd < 65536; fd++)
        close(fd);
    sandbox_limits((long)s->deadline * (ncpu > 0 ? ncpu : 1));
    if (s->no_network)
        sandbox_drop_network();
    /* A ladder yields the CPU to what people wait on now: first-playable
     * passes, the server, pictures. Its work is still done; only later. */
    if (s->kind == JC_KIND_LADDER) {
        errno = 0;
        int cur = getpriority(PRIO_PROCESS, 0);
        if (errno == 0 && cur < JC_LADDER_NICE)
            (void)setpriority(PRIO_PROCESS, 0, JC_LADDER_NICE);
    }
    execve(hc_self_path, argv, env);
    _exit(127);
}

int jc_start(const struct jc_spec *s, struct jc_child *c)
{
    char crf[16], threads[16], maxdur[16], deadline[16], uid[16], gid[16], parent[16], trim[64];
    char *env[JC_MAX_ENV];
    int sv[2];
    pid_t pid, self = getpid();

    c->pid = 0;
    c->sock = -1;
    c->status = 0;
    c->cpu = 0;
    snprintf(crf, sizeof(crf), "%d", s->crf);
    snprintf(threads, sizeof(threads), "%d", s->threads);
    snprintf(maxdur, sizeof(maxdur), "%d", s->max_duration);
    snprintf(deadline, sizeof(deadline), "%d", s->deadline);
    snprintf(uid, sizeof(uid), "%ld", s->uid == (uid_t)-1 ? -1L : (long)s->uid);
    snprintf(gid, sizeof(gid), "%ld", s->gid == (gid_t)-1 ? -1L : (long)s->gid);
    snprintf(parent, sizeof(parent), "%ld", (long)self);
    snprintf(trim, sizeof(trim), "%.6f:%.6f", s->trim_start, s->trim_end);
    char *argv[] = { "hubcast", "job-child", "--kind", s->kind == JC_KIND_FIRST ? "first" :
                     s->kind == JC_KIND_AVATAR ? "avatar" : "ladder", "--preset", (char *)s->preset,
                     "--crf", crf, "--threads", threads, "--max-duration", maxdur,
                     "--deadline", deadline, "--uid", uid, "--gid", gid, "--parent", parent,
                     "--trim", trim, NULL, NULL, NULL };
    int argc = 22;      /* the flags that follow */

    if (s->test_clock)
        argv[argc++] = "--test-clock";
    if (s->kind == JC_KIND_LADDER && s->first_fd > 0)
        argv[argc++] = "--reuse-first";
    assert(argc < (int)(sizeof(argv) / sizeof(argv[0])) && argv[21] == trim);
    child_env(s, env);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    if ((pid = fork()) < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (pid == 0)
        child_exec(s, sv[1], self, argv, env);
    close(sv[1]);
    c->pid = pid;
    c->sock = sv[0];
    return 0;
}

int jc_send(int sock, const struct jc_msg *m)
{
    ssize_t n;

    do
        n = send(sock, m, sizeof(*m), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return n == (ssize_t)sizeof(*m) ? 0 : -EIO;
}

int jc_next(struct jc_child *c, int timeout_ms, struct jc_msg *m)
{
    struct pollfd p = { c->sock, POLLIN, 0 };
    ssize_t n;
    int r;

    if (c->sock < 0)
        return -1;
    if ((r = poll(&p, 1, timeout_ms)) <= 0)
        return r < 0 && errno != EINTR ? -1 : 0;
    n = recv(c->sock, m, sizeof(*m), 0);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0)
        return -1;
    if (n != (ssize_t)sizeof(*m) || m->version != JC_VERSION) {
        hc_log("job child %d: a message of %zd bytes that is not one", (int)c->pid, n);
        return 0;
    }
    m->result.error[sizeof(m->result.error) - 1] = '\0';
    return 1;
}

int jc_finish(struct jc_child *c, int kill_it)
{
    if (c->pid > 0) {
        if (kill_it)
            kill(c->pid, SIGKILL);
        struct rusage ru;
        memset(&ru, 0, sizeof(ru));
        while (wait4(c->pid, &c->status, 0, &ru) < 0 && errno == EINTR)
            ;
        c->cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        c->pid = 0;
    }
    if (c->sock >= 0) {
        close(c->sock);
        c->sock = -1;
    }
    return c->status;
}

/* ---- the child's side: `hubcast job-child` ---- */

/* Send a progress message now and then; the parent decides the rest. */
static int child_progress(void *opaque, double done, double total, double eta)
{
    struct jc_msg m;

    (void)opaque;
    memset(&m, 0, sizeof(m));
    m.version = JC_VERSION;
    m.type = JC_PROGRESS;
    m.done = done;
    m.total = total;
    m.eta = eta;
    /* The parent gone means nobody wants the result: stop. */
    return jc_send(JC_FD_CHANNEL, &m) < 0;
}

/*
 * The test hook (only with --test-clock): try what a compromised job child
 * might, and say what happened. "open:PATH" opens PATH, "openat:NAME" opens
 * NAME below the work folder, "writefirst:NAME" opens NAME below the first
 * rendition it was given to read (JC_FD_FIRST) for writing, "linkfirst:NAME"
 * hard-links it into the work folder, "socket" asks for a network socket.
 */
static void test_probe(const char *probe)
{
    int fd = -1;

    if (!strncmp(probe, "open:", 5))
        fd = open(probe + 5, O_RDONLY | O_CLOEXEC);
    else if (!strncmp(probe, "openat:", 7))
        fd = openat(JC_FD_WORK, probe + 7, O_RDONLY | O_CLOEXEC);
    else if (!strncmp(probe, "writefirst:", 11))
        fd = openat(JC_FD_FIRST, probe + 11, O_WRONLY | O_CLOEXEC);
    else if (!strncmp(probe, "linkfirst:", 10))
        fd = linkat(JC_FD_FIRST, probe + 10, JC_FD_WORK, "probe-link", 0) == 0 ?
             openat(JC_FD_WORK, "probe-link", O_RDONLY | O_CLOEXEC) : -1;
    else if (!strcmp(probe, "socket"))
        fd = socket(AF_INET, SOCK_STREAM, 0);
    else
        return;
    if (fd >= 0) {
        hc_log("job child: test probe %s: opened", probe);
        close(fd);
    } else {
        hc_log("job child: test probe %s: %s", probe, strerror(errno));
    }
}

/* Options of `hubcast job-child`; all are set by jc_start(). */
struct child_args {
    int         first;          /* --kind first */
    int         avatar;         /* --kind avatar */
    const char *preset;
    long        crf, threads, max_duration, deadline, uid, gid, parent;
    double      trim_start, trim_end;   /* --trim START:END */
    int         test_clock;
    int         reuse_first;    /* --reuse-first: JC_FD_FIRST is open */
};

static int child_parse(int argc, char **argv, struct child_args *a)
{
    memset(a, 0, sizeof(*a));
    a->preset = "veryfast";
    a->crf = 23;
    a->deadline = 7200;
    a->max_duration = 7200;
    a->uid = a->gid = -1;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;

        if (!strcmp(k, "--test-clock")) {
            a->test_clock = 1;
            continue;
        }
        if (!strcmp(k, "--reuse-first")) {
            a->reuse_first = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(k, "--kind")) {
            a->first = !strcmp(v, "first");
            a->avatar = !strcmp(v, "avatar");
            bad = !a->first && !a->avatar && strcmp(v, "ladder") != 0;
        }
        else if (!strcmp(k, "--preset"))
            a->preset = v;
        else if (!strcmp(k, "--crf"))
            bad = hc_parse_long(v, 0, 51, &a->crf);
        else if (!strcmp(k, "--threads"))
            bad = hc_parse_long(v, 0, 64, &a->threads);
        else if (!strcmp(k, "--max-duration"))
            bad = hc_parse_long(v, 1, 86400, &a->max_duration);
        else if (!strcmp(k, "--deadline"))
            bad = hc_parse_long(v, 1, 7 * 86400, &a->deadline);
        else if (!strcmp(k, "--uid"))
            bad = hc_parse_long(v, -1, 0x7fffffff, &a->uid);
        else if (!strcmp(k, "--gid"))
            bad = hc_parse_long(v, -1, 0x7fffffff, &a->gid);
        else if (!strcmp(k, "--trim"))
            bad = hc_parse_span(v, &a->trim_start, &a->trim_end);
        else if (!strcmp(k, "--parent"))
            bad = hc_parse_long(v, 1, 0x7fffffff, &a->parent);
        else
            bad = 1;
        if (bad)
            return -1;
    }
    return a->parent > 0 ? 0 : -1;
}

/* What the first pass knows of its input: the latest JC_INPUT. */
struct child_input {
    int64_t offset;             /* readable bytes */
    int     final;              /* 1 complete, -1 gone, 0 growing */
};

/* Take a JC_INPUT message into *in (others are not for it). */
static void child_take_input(struct child_input *in, const struct jc_msg *m)
{
    if (m->version == JC_VERSION && m->type == JC_INPUT && in->final == 0) {
        if (m->offset > in->offset)
            in->offset = m->offset;
        in->final = m->final;
    }
}

/* tc_length_fn of the first pass: read every JC_INPUT waiting on the
 * channel (never blocks) and answer from the latest. */
static enum tc_follow_state child_length(void *opaque, int64_t *confirmed)
{
    struct child_input *in = opaque;
    struct jc_msg m;
    ssize_t n;

    while ((n = recv(JC_FD_CHANNEL, &m, sizeof(m), MSG_DONTWAIT)) == (ssize_t)sizeof(m))
        child_take_input(in, &m);
    if (n == 0)
        in->final = -1;         /* the parent is gone */
    *confirmed = in->offset;
    return in->final < 0 ? TC_FOLLOW_GONE : in->final ? TC_FOLLOW_FINISHED : TC_FOLLOW_GROWING;
}

/* tc_segment_fn of the first pass: tell the parent. */
static void child_segment(void *opaque, int segments, double seconds, int playable)
{
    struct jc_msg m;

    (void)opaque;
    memset(&m, 0, sizeof(m));
    m.version = JC_VERSION;
    m.type = JC_SEGMENT;
    m.offset = segments;
    m.done = seconds;
    m.final = playable;
    jc_send(JC_FD_CHANNEL, &m);
}

/*
 * tc_options.first_wait of the first pass: tell the parent this pass
 * encodes (JC_ENCODE; final 1 when as the ladder's top rung, which the
 * ladder will take over), then wait for its turn (JC_GO), keeping the
 * JC_INPUT messages that come meanwhile. The parent caps how many passes
 * encode at once. 0 on JC_GO, -1 when the upload or the parent is gone.
 */
static int child_wait_turn(void *opaque, int top_rung)
{
    struct child_input *in = opaque;
    struct jc_msg m;
    ssize_t n;

    memset(&m, 0, sizeof(m));
    m.version = JC_VERSION;
    m.type = JC_ENCODE;
    m.final = top_rung;
    if (jc_send(JC_FD_CHANNEL, &m) < 0)
        return -1;
    for (;;) {
        struct pollfd p = { JC_FD_CHANNEL, POLLIN, 0 };

        if (poll(&p, 1, 1000) < 0 && errno != EINTR)
            return -1;
        n = recv(JC_FD_CHANNEL, &m, sizeof(m), MSG_DONTWAIT);
        if (n == 0)
            return -1;          /* the parent is gone */
        if (n != (ssize_t)sizeof(m) || m.version != JC_VERSION)
            continue;
        if (m.type == JC_GO)
            return 0;
        child_take_input(in, &m);
        if (in->final < 0)
            return -1;          /* the upload is gone */
    }
}

/* tc_options.first_slow of the first pass: tell the parent (JC_SLOW). */
static void child_slow(void *opaque, int slow, double pace)
{
    struct jc_msg m;

    (void)opaque;
    memset(&m, 0, sizeof(m));
    m.version = JC_VERSION;
    m.type = JC_SLOW;
    m.final = slow;
    m.done = pace;
    jc_send(JC_FD_CHANNEL, &m);
}

/* The first pass over the descriptors; fills m (JC_DONE or JC_FAILED). */
static void child_first(const struct tc_options *opt, struct jc_msg *m)
{
    struct child_input in = { 0, 0 };
    struct tc_follow follow = { child_length, &in, -1 };
    struct tc_first_result fr;
    struct tc_options o = *opt;
    int rc;

    memset(&fr, 0, sizeof(fr));
    o.first_wait = child_wait_turn;
    o.first_slow = child_slow;
    o.opaque = &in;     /* child_progress does not use it */
    rc = tc_first_playable(JC_FD_INPUT, &follow, JC_FD_WORK, &o, child_segment, NULL, &fr);
    m->type = rc < 0 ? JC_FAILED : JC_DONE;
    m->offset = fr.segments;
    m->result.duration = fr.duration;
    m->result.width = fr.width;
    m->result.height = fr.height;
    m->result.has_audio = fr.has_audio;
    hc_strlcpy(m->result.error, fr.error, sizeof(m->result.error));
}

int cmd_job_child(int argc, char **argv)
{
    struct child_args a;
    struct sandbox sb;
    struct tc_options opt;
    struct jc_msg m;
    struct timeval tv;
    char err[256];
    const char *probe;
    int rc;

    if (child_parse(argc, argv, &a) < 0) {
        fputs("hubcast job-child is started by `hubcast worker`, not by hand\n", stderr);
        return 2;
    }
    sb.uid = a.uid < 0 ? (uid_t)-1 : (uid_t)a.uid;
    sb.gid = a.gid < 0 ? (gid_t)-1 : (gid_t)a.gid;
    sb.parent = (pid_t)a.parent;
    sb.work_fd = JC_FD_WORK;
    sb.read_fd = a.reuse_first && !a.first && !a.avatar ? JC_FD_FIRST : -1;
    sb.channel_fd = JC_FD_CHANNEL;
    if (sandbox_enter(&sb, err, sizeof(err)) < 0) {
        hc_log("job child: cannot confine itself, so it does not start: %s", err);
        return 3;
    }
    if (a.test_clock && (probe = getenv(a.first ? TEST_FIRST_PROBE_ENV : TEST_PROBE_ENV)))
        test_probe(probe);
    tc_options_default(&opt);
    opt.preset = a.preset;
    opt.crf = (int)a.crf;
    opt.threads = (int)a.threads;
    opt.limits.max_duration = (double)a.max_duration;
    opt.trim_start = a.trim_start;
    opt.trim_end = a.trim_end;
    opt.reuse_first_fd = sb.read_fd > 0 ? sb.read_fd : 0;
    opt.progress = child_progress;
    gettimeofday(&tv, NULL);
    opt.deadline_us = ((int64_t)tv.tv_sec + a.deadline) * 1000000 + tv.tv_usec;
    memset(&m, 0, sizeof(m));
    if (a.avatar) {
        rc = tc_avatar_fd(JC_FD_INPUT, JC_FD_WORK, opt.deadline_us, m.result.error,
                          sizeof(m.result.error)) < 0 ? -1 : 0;
        m.type = rc < 0 ? JC_FAILED : JC_DONE;
    } else if (a.first) {
        child_first(&opt, &m);
        rc = m.type == JC_DONE ? 0 : -1;
    } else {
        rc = tc_transcode_fd(JC_FD_INPUT, JC_FD_WORK, &opt, &m.result);
        m.type = rc < 0 ? JC_FAILED : JC_DONE;
    }
    m.version = JC_VERSION;
    if (rc < 0 && !m.result.error[0])
        snprintf(m.result.error, sizeof(m.result.error), "the video could not be processed");
    if (jc_send(JC_FD_CHANNEL, &m) < 0)
        return 1;
    return 0;
}

/* A picture upload (src/picture.c) converted by a job child of kind
 * avatar, synchronously; installed by `hubcast serve` as the picture
 * converter (picture_set_converter). */
int jc_run_avatar(const struct conf *conf, int in_fd, int work_fd, char *err, size_t errsz)
{
    struct jc_spec spec;
    struct jc_child child;
    struct jc_msg m;
    double end = hc_monotonic() + PICTURE_DEADLINE + 2;
    int got = 0, r, rc;

    memset(&spec, 0, sizeof(spec));
    if (sandbox_job_user(&spec.uid, &spec.gid) < 0) {
        hc_log("avatar: there is no user `nobody` to run jobs as");
        return -2;
    }
    if (spec.uid != (uid_t)-1 && fchown(work_fd, spec.uid, spec.gid) < 0) {
        hc_log("avatar: chown of the work folder: %s", strerror(errno));
        return -2;
    }
    spec.kind = JC_KIND_AVATAR;
    spec.in_fd = in_fd;
    spec.work_fd = work_fd;
    spec.preset = "veryfast";
    spec.crf = 23;
    spec.max_duration = 1;
    spec.deadline = PICTURE_DEADLINE;
    spec.test_clock = conf->test_clock;
    if ((rc = jc_start(&spec, &child)) < 0) {
        hc_log("avatar: cannot start a job child: %s", strerror(-rc));
        return -2;
    }
    while (!got && hc_monotonic() < end) {
        r = jc_next(&child, 250, &m);
        if (r < 0)
            break;
        if (r == 1 && (m.type == JC_DONE || m.type == JC_FAILED))
            got = m.type;
    }
    jc_finish(&child, 1);
    if (got == JC_DONE)
        return 0;
    if (got == JC_FAILED) {
        hc_strlcpy(err, m.result.error, errsz);
        return -1;
    }
    hc_log("avatar: the job child ended without an answer");
    hc_strlcpy(err, "this file is not a JPEG or PNG picture Hubcast can read", errsz);
    return -1;
}
