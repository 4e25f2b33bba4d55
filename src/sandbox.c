/*
 * sandbox.c - the confinement of a job child; see sandbox.h. The order in
 * sandbox_enter() matters: ids and capabilities first (they need root),
 * then Landlock, then seccomp last (it forbids the calls that set up the
 * rest).
 */
#include "config.h"

#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#ifdef HAVE_LINUX_LANDLOCK_H
#include <linux/landlock.h>
#endif
#include <sched.h>
#include <seccomp.h>

#include "util.h"

static void limit(int res, rlim_t soft, rlim_t hard)
{
    struct rlimit rl = { soft, hard };

    if (setrlimit(res, &rl) < 0)
        hc_log("job child: setrlimit(%d): %s", res, strerror(errno));
}

void sandbox_limits(long cpu_seconds)
{
    if (cpu_seconds > 0)
        limit(RLIMIT_CPU, (rlim_t)cpu_seconds, (rlim_t)cpu_seconds + 5);
#ifndef HAVE_SANITIZERS
    limit(RLIMIT_AS, SANDBOX_AS, SANDBOX_AS);
#endif
    limit(RLIMIT_FSIZE, SANDBOX_FSIZE, SANDBOX_FSIZE);
    limit(RLIMIT_NOFILE, SANDBOX_NOFILE, SANDBOX_NOFILE);
    limit(RLIMIT_CORE, 0, 0);
}

void sandbox_drop_network(void)
{
#ifdef HAVE_UNSHARE
    if (unshare(CLONE_NEWNET) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        hc_log("job child: cannot leave the network (unshare: %s); its filter still refuses sockets",
               strerror(errno));
#endif
}

int sandbox_job_user(uid_t *uid, gid_t *gid)
{
    const struct passwd *pw;
    const struct group *gr;

    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    if (geteuid() != 0)
        return 0;
    if (!(pw = getpwnam("nobody")))
        return -1;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    /* nobody's own group is often a real one on some systems: nogroup is
     * the one meant to own nothing. */
    if ((gr = getgrnam("nogroup")))
        *gid = gr->gr_gid;
    return 0;
}

/* Become sb's user and group with no supplementary groups. */
static int drop_ids(const struct sandbox *sb, char *err, size_t errsz)
{
    if (sb->uid == (uid_t)-1 || geteuid() != 0)
        return 0;
    if (setgroups(0, NULL) < 0 || setresgid(sb->gid, sb->gid, sb->gid) < 0 ||
        setresuid(sb->uid, sb->uid, sb->uid) < 0) {
        snprintf(err, errsz, "cannot become user %u: %s", (unsigned)sb->uid,
                 strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 || getuid() != sb->uid || geteuid() != sb->uid) {
        snprintf(err, errsz, "still privileged after dropping to user %u",
                 (unsigned)sb->uid);
        return -1;
    }
    return 0;
}

/* Clear every capability set this process may still hold (a worker that
 * is not root runs in a user namespace of its own, with capabilities
 * there). */
static int drop_caps(char *err, size_t errsz)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];

    memset(d, 0, sizeof(d));
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (syscall(SYS_capset, &h, d) < 0) {
        snprintf(err, errsz, "cannot drop capabilities: %s", strerror(errno));
        return -1;
    }
    return 0;
}

#ifdef HAVE_LINUX_LANDLOCK_H
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)     /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)    /* ABI 5 */
#endif

/* Allow access below the folder open as fd. Returns 0 or -1. */
static int landlock_allow(int ruleset, int fd, uint64_t access)
{
    struct landlock_path_beneath_attr pb = { access, fd };

    return syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                   &pb, 0) < 0 ? -1 : 0;
}

/*
 * Leave the process only the work folder: create and write files and
 * folders below it. Everything else on the file system (the catalog, the
 * other uploads, /etc, /proc) cannot be opened, whatever the file modes.
 * Returns 1 when enforced, 0 when the kernel has no Landlock, -1 on error.
 */
static int landlock(const struct sandbox *sb, char *err, size_t errsz)
{
    struct landlock_ruleset_attr attr = { 0 };
    uint64_t below;
    int abi, rs;

    abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
                       LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0)
        return 0;
    attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
    if (abi >= 2)
        attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    below = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
            LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_MAKE_DIR |
            LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE |
            LANDLOCK_ACCESS_FS_REMOVE_DIR;
    if (abi >= 3)
        below |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0)) < 0) {
        snprintf(err, errsz, "landlock: %s", strerror(errno));
        return -1;
    }
    if (landlock_allow(rs, sb->work_fd, below) < 0) {
        snprintf(err, errsz, "landlock: the work folder: %s", strerror(errno));
        close(rs);
        return -1;
    }
    if (sb->read_fd >= 0 &&
        landlock_allow(rs, sb->read_fd, LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR) < 0) {
        snprintf(err, errsz, "landlock: the folder to read: %s", strerror(errno));
        close(rs);
        return -1;
    }
#ifdef HAVE_SANITIZERS
    {
        /* LeakSanitizer reads /proc/self/maps and /proc/self/task. */
        int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc >= 0) {
            landlock_allow(rs, proc, LANDLOCK_ACCESS_FS_READ_FILE |
                                     LANDLOCK_ACCESS_FS_READ_DIR);
            close(proc);
        }
    }
#endif
    if (syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
        snprintf(err, errsz, "landlock: %s", strerror(errno));
        close(rs);
        return -1;
    }
    close(rs);
    return 1;
}
#endif

/* A system call outside the filter: say which, and stop. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
    char msg[80] = "job child: system call ";
    char num[16];
    size_t n = strlen(msg);
    int v = si->si_syscall, k = 0;

    (void)sig;
    (void)ctx;
    if (v < 0)
        v = 0;
    do
        num[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < (int)sizeof(num));
    while (k > 0 && n < sizeof(msg) - 1)
        msg[n++] = num[--k];
    for (const char *p = " is not allowed\n"; *p && n < sizeof(msg); p++)
        msg[n++] = *p;
    if (write(2, msg, n) < 0) {
        /* nothing more can be said */
    }
    _exit(SANDBOX_EXIT_BLOCKED);
}

/* Add rules; a name this architecture does not have is skipped. */
static int allow(scmp_filter_ctx f, const char *const *names)
{
    for (; *names; names++) {
        int nr = seccomp_syscall_resolve_name(*names);
        if (nr == __NR_SCMP_ERROR)
            continue;
        if (seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0) < 0)
            return -1;
    }
    return 0;
}

/* What decoding, filtering, encoding and writing below the folder use. */
static const char *const allowed[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek",
    "close", "fstat", "fcntl", "getdents64",
    "mmap", "munmap", "mremap", "mprotect", "brk", "madvise",
    "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address",
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
    "gettimeofday", "time", "getpid", "gettid", "getppid", "getuid",
    "geteuid", "getgid", "getegid", "getrandom", "sched_yield",
    "sched_getaffinity", "exit", "exit_group", "rt_sigreturn",
    "rt_sigprocmask", "rt_sigaction", "sigaltstack", "restart_syscall",
    "membarrier", "getrusage", "sysinfo", "uname", "poll", "ppoll",
    NULL
};

#ifdef HAVE_SANITIZERS
/* What AddressSanitizer and LeakSanitizer use besides: LeakSanitizer stops
 * the process at exit with a helper that ptrace()s it and lists
 * /proc/PID/task with the old getdents (Landlock still limits opens to
 * /proc and the work folder). */
static const char *const allowed_sanitizers[] = {
    "clone", "ptrace", "wait4", "waitid", "prctl", "openat", "open",
    "readlink", "readlinkat", "newfstatat", "statx", "stat", "lstat",
    "access", "getdents", "mkdirat",
    "process_vm_readv", "kill", "tgkill", "tkill", "sched_getparam",
    "getrlimit", "prlimit64", "ioctl", "pipe", "pipe2", "dup", "dup2", "dup3",
    NULL
};
#define RELAXED 1
#else
#define RELAXED 0
#endif

#define RULE(f, act, name, n, ...) \
    seccomp_rule_add(f, act, SCMP_SYS(name), n, __VA_ARGS__)
#define RULE0(f, act, name) seccomp_rule_add(f, act, SCMP_SYS(name), 0)

/*
 * openat: below the work folder, and read-only below sb->read_fd when
 * there is one; anything else fails with EACCES. (An error action wins
 * over an allow that matches too, so the refusals name every other
 * descriptor: below, between and above the two.)
 */
static int narrow_openat(scmp_filter_ctx f, const struct sandbox *sb)
{
    const uint32_t eacces = SCMP_ACT_ERRNO(EACCES);
    const uint64_t wd = (uint64_t)sb->work_fd, rd = (uint64_t)sb->read_fd;
    uint64_t lo, hi;
    int bad = 0;

    bad |= RULE(f, SCMP_ACT_ALLOW, openat, 1, SCMP_A0(SCMP_CMP_EQ, wd)) < 0;
    if (sb->read_fd < 0 || sb->read_fd == sb->work_fd) {
        bad |= RULE(f, eacces, openat, 1, SCMP_A0(SCMP_CMP_NE, wd)) < 0;
        return bad ? -1 : 0;
    }
    lo = wd < rd ? wd : rd;
    hi = wd < rd ? rd : wd;
    bad |= RULE(f, eacces, openat, 1, SCMP_A0(SCMP_CMP_LT, lo)) < 0;
    for (uint64_t fd = lo + 1; fd < hi; fd++)
        bad |= RULE(f, eacces, openat, 1, SCMP_A0(SCMP_CMP_EQ, fd)) < 0;
    bad |= RULE(f, eacces, openat, 1, SCMP_A0(SCMP_CMP_GT, hi)) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, openat, 1, SCMP_A0(SCMP_CMP_EQ, rd)) < 0;
    bad |= RULE(f, eacces, openat, 2, SCMP_A0(SCMP_CMP_EQ, rd),
                SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_WRONLY)) < 0;
    bad |= RULE(f, eacces, openat, 2, SCMP_A0(SCMP_CMP_EQ, rd),
                SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDWR)) < 0;
    bad |= RULE(f, eacces, openat, 2, SCMP_A0(SCMP_CMP_EQ, rd),
                SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT)) < 0;
    bad |= RULE(f, eacces, openat, 2, SCMP_A0(SCMP_CMP_EQ, rd),
                SCMP_A2(SCMP_CMP_MASKED_EQ, O_TRUNC, O_TRUNC)) < 0;
    return bad ? -1 : 0;
}

/*
 * Rules that look at arguments: threads only, files only below the work
 * folder (an open elsewhere fails with EACCES), the channel only, no
 * signals to others. relaxed (sanitizer builds) leaves out those the
 * sanitizers' list allows outright.
 */
static int narrow(scmp_filter_ctx f, const struct sandbox *sb, int relaxed)
{
    const uint32_t eacces = SCMP_ACT_ERRNO(EACCES);
    const uint64_t wd = (uint64_t)sb->work_fd, ch = (uint64_t)sb->channel_fd;
    int bad = 0;

    bad |= RULE0(f, SCMP_ACT_ERRNO(ENOSYS), clone3) < 0;  /* glibc falls back */
    /* A hard link from the folder it reads would be a file it could
     * write: refused, so that the ladder copies the first rendition. */
    bad |= RULE0(f, SCMP_ACT_ERRNO(EPERM), linkat) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, sendto, 1, SCMP_A0(SCMP_CMP_EQ, ch)) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, recvfrom, 1, SCMP_A0(SCMP_CMP_EQ, ch)) < 0;
    /* The first pass replaces its growing playlists by rename below the
     * folder, and removes a temporary file that could not be finished. */
    bad |= RULE(f, SCMP_ACT_ALLOW, renameat, 2, SCMP_A0(SCMP_CMP_EQ, wd), SCMP_A2(SCMP_CMP_EQ, wd)) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, renameat2, 2, SCMP_A0(SCMP_CMP_EQ, wd), SCMP_A2(SCMP_CMP_EQ, wd)) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, unlinkat, 1, SCMP_A0(SCMP_CMP_EQ, wd)) < 0;
    if (relaxed)
        return bad ? -1 : 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, clone, 1,
                SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) < 0;
    bad |= narrow_openat(f, sb) < 0;
    bad |= RULE0(f, eacces, open) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, mkdirat, 1, SCMP_A0(SCMP_CMP_EQ, wd)) < 0;
    bad |= RULE(f, eacces, mkdirat, 1, SCMP_A0(SCMP_CMP_NE, wd)) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, newfstatat, 1, SCMP_A0(SCMP_CMP_EQ, wd)) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, newfstatat, 2, SCMP_A0(SCMP_CMP_NE, wd),
                SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)) < 0;
    bad |= RULE(f, eacces, newfstatat, 2, SCMP_A0(SCMP_CMP_NE, wd),
                SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0)) < 0;
    bad |= RULE0(f, eacces, statx) < 0;
    bad |= RULE0(f, SCMP_ACT_ERRNO(ENOTTY), ioctl) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, prctl, 1, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)) < 0;
    bad |= RULE(f, SCMP_ACT_ALLOW, prlimit64, 2, SCMP_A0(SCMP_CMP_EQ, 0),
                SCMP_A2(SCMP_CMP_EQ, 0)) < 0;   /* reading its own limits */
    bad |= RULE(f, SCMP_ACT_ALLOW, tgkill, 1,
                SCMP_A0(SCMP_CMP_EQ, (uint64_t)getpid())) < 0;
    return bad ? -1 : 0;
}

/* Install the filter: everything not allowed raises SIGSYS. */
static int seccomp(const struct sandbox *sb, char *err, size_t errsz)
{
    struct sigaction sa;
    scmp_filter_ctx f;
    int rc = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    if (!(f = seccomp_init(SCMP_ACT_TRAP))) {
        snprintf(err, errsz, "seccomp: cannot start a filter");
        return -1;
    }
#ifdef HAVE_SANITIZERS
    if (allow(f, allowed_sanitizers) < 0) {
        snprintf(err, errsz, "seccomp: cannot add the sanitizers' rules");
        goto end;
    }
#endif
    if (narrow(f, sb, RELAXED) < 0 || allow(f, allowed) < 0) {
        snprintf(err, errsz, "seccomp: cannot add a rule");
        goto end;
    }
    if ((rc = seccomp_load(f)) < 0)
        snprintf(err, errsz, "seccomp: %s", strerror(-rc));
end:
    seccomp_release(f);
    return rc < 0 ? -1 : 0;
}

int sandbox_enter(const struct sandbox *sb, char *err, size_t errsz)
{
    err[0] = '\0';
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errsz, "no_new_privs: %s", strerror(errno));
        return -1;
    }
    if (drop_ids(sb, err, errsz) < 0 || drop_caps(err, errsz) < 0)
        return -1;
    /* Changing ids clears the parent-death signal: set it again, and do
     * not start at all when the worker is already gone. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != sb->parent) {
        snprintf(err, errsz, "the worker is gone");
        return -1;
    }
#ifdef HAVE_SANITIZERS
    /* LeakSanitizer's helper ptrace()s this process at exit. */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
#ifdef HAVE_LINUX_LANDLOCK_H
    {
        int r = landlock(sb, err, errsz);
        if (r < 0)
            return -1;
        if (r == 0)
            hc_log("job child: this kernel has no Landlock; files are kept out of "
                   "reach by the user and the seccomp filter only");
    }
#endif
    return seccomp(sb, err, errsz);
}

static uid_t give_uid;
static gid_t give_gid;

static int give_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    if (sb->st_uid == give_uid && sb->st_gid == give_gid)
        return 0;
    return lchown(path, give_uid, give_gid) < 0 ? -1 : 0;
}

int sandbox_give_back(const char *path)
{
    give_uid = getuid();
    give_gid = getgid();
    if (nftw(path, give_one, 16, FTW_PHYS) < 0)
        return -errno;
    return 0;
}
