/*
 * sandbox.h - privilege separation for the process that touches hostile
 * bytes (the job child, see jobchild.h): resource limits, the user it runs
 * as, and the confinement it enters before reading a single byte of an
 * upload — no new privileges, no capabilities, no parent-less life, a
 * Landlock ruleset that leaves it only the work folder it was handed (and,
 * for a ladder that takes over a copied first rendition, that folder to
 * read), and
 * a seccomp filter that allows the system calls decoding and encoding
 * need. Not for the worker or the server, which keep their privileges.
 */
#ifndef HUBCAST_SANDBOX_H
#define HUBCAST_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/* Exit status of a job child stopped by its seccomp filter. */
#define SANDBOX_EXIT_BLOCKED 120

/* Resource limits of one job child. */
#define SANDBOX_NOFILE   64
#define SANDBOX_FSIZE    ((rlim_t)32 << 30)
#define SANDBOX_AS       ((rlim_t)6 << 30)   /* not under sanitizers */

/*
 * Set the job child's rlimits in the forked process, before exec: CPU
 * seconds (SIGXCPU at cpu_seconds, SIGKILL 5 s later), address space
 * (except in sanitizer builds, where ASan reserves terabytes), file size,
 * open files and no core dumps. Failures are logged; the job still runs.
 */
void sandbox_limits(long cpu_seconds);

/*
 * Leave the network: a fresh network namespace (only a loopback that is
 * down), in a user namespace of its own when not root. For a job child
 * whose worker keeps the network (an S3 media store); the seccomp filter
 * refuses sockets anyway. Failures are logged; the job still runs.
 */
void sandbox_drop_network(void);

/*
 * The user a job child runs as: `nobody` (and its group, or nogroup) when
 * this process is root, else (uid_t)-1 and (gid_t)-1: stay as we are.
 * Returns 0, or -1 when root and no such user exists.
 */
int sandbox_job_user(uid_t *uid, gid_t *gid);

/* What sandbox_enter() leaves a job child. */
struct sandbox {
    uid_t  uid;         /* become this user when root, (uid_t)-1 = stay */
    gid_t  gid;         /* and this group */
    pid_t  parent;      /* the worker: if it is gone, do not start */
    int    work_fd;     /* the only folder it may write below */
    int    read_fd;     /* a folder it may only read below, -1 = none */
    int    channel_fd;  /* the socket to the parent */
};

/*
 * Enter the sandbox, for good: no new privileges, the user and groups of
 * sb (all capabilities dropped), death with the parent, Landlock (when the
 * kernel has it; a note goes to the log otherwise), then the seccomp
 * filter. Returns 0, or -1 with a sentence in err: the caller must not go
 * on. Sanitizer builds allow what LeakSanitizer needs at exit (ptrace of
 * its own threads, /proc read-only).
 */
int sandbox_enter(const struct sandbox *sb, char *err, size_t errsz);

/*
 * Give everything below path (and path) back to this process's user and
 * group, after a job child running as another user wrote it. Returns 0 or
 * -errno.
 */
int sandbox_give_back(const char *path);

#endif
