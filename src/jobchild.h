/*
 * jobchild.h - one transcode job in a process of its own. The worker (the
 * parent) opens the upload and an empty work folder, then starts
 * `hubcast job-child` with those two descriptors and one end of a socket
 * pair; the child confines itself (see sandbox.h), runs the pipeline on
 * the descriptors and reports over the socket. The parent keeps the
 * catalog: it heartbeats, publishes the folder and records the outcome.
 *
 * The channel carries fixed-size messages (struct jc_msg), one per
 * SOCK_SEQPACKET record, in both directions. Not for catalog work, and not
 * for the confinement itself.
 */
#ifndef HUBCAST_JOBCHILD_H
#define HUBCAST_JOBCHILD_H

#include <stdint.h>
#include <sys/types.h>

#include "transcode.h"

#define JC_VERSION 1

/* Descriptor numbers in the child. */
#define JC_LADDER_NICE 10  /* niceness of ladder children (first passes: 0) */
#define JC_FD_INPUT   3   /* the upload, read-only */
#define JC_FD_WORK    4   /* the work folder */
#define JC_FD_CHANNEL 5   /* the socket to the parent */
#define JC_FD_FIRST   6   /* ladder: the update's copied first rendition,
                             read-only (only with spec.first_fd) */

/* What a job child does. */
enum jc_kind {
    JC_KIND_LADDER = 1,         /* the whole ladder from a complete upload */
    JC_KIND_FIRST,              /* the first-playable pass (tc_first_playable):
                                   the input is read only up to the offset of
                                   the last JC_INPUT message, until one says
                                   final; the work folder is the published
                                   first/ folder itself, growing segment by
                                   segment (JC_SEGMENT after each) */
    JC_KIND_AVATAR,             /* a profile picture (tc_avatar_fd): the input
                                   is an uploaded JPEG or PNG, the work folder
                                   receives TC_AVATAR_FILE */
};

enum jc_type {
    JC_PROGRESS = 1,  /* child -> parent: done/total/eta seconds, offset read */
    JC_DONE,          /* child -> parent: result filled; the folder is complete */
    JC_FAILED,        /* child -> parent: result.error says why, for a person */
    JC_INPUT,         /* parent -> child: the input may be read up to offset;
                         final = 1 once the upload is complete, -1 when it
                         is gone (stop, publish nothing more) */
    JC_SEGMENT,       /* child -> parent (first pass): offset = video segments
                         listed, done = their seconds, final = 1 once the
                         master playlist is written (playable) */
    JC_ENCODE,        /* child -> parent (first pass): it will encode, not
                         copy, and waits for JC_GO before it starts; final
                         = 1 when it encodes the ladder's top rung at the
                         ladder's settings (the ladder takes it over) */
    JC_GO,            /* parent -> child: start encoding (its turn came) */
    JC_SLOW,          /* child -> parent (first pass, encoding): final = 1
                         when it is slower than real time (expected from the
                         source, then measured), 0 when no longer; done =
                         its measured pace, 0 before measured */
};

/* One message. Fields a type does not use are zero. */
struct jc_msg {
    uint32_t         version;   /* JC_VERSION */
    uint32_t         type;      /* enum jc_type */
    double           done;      /* JC_PROGRESS: seconds of video done */
    double           total;     /* JC_PROGRESS: seconds in all, 0 = unknown */
    double           eta;       /* JC_PROGRESS: seconds left, < 0 = unknown */
    int64_t          offset;    /* JC_INPUT: readable bytes; JC_PROGRESS: read */
    int32_t          final;     /* JC_INPUT: no more bytes will come */
    int32_t          pad;
    struct tc_result result;    /* JC_DONE, JC_FAILED */
};

/* What the parent asks of a job child. */
struct jc_spec {
    enum jc_kind kind;
    int          in_fd;         /* the upload, open read-only */
    int          work_fd;       /* the empty work folder, open */
    int          first_fd;      /* ladder: the update's first rendition when
                                   it is a copy (remux), open read-only: the
                                   ladder takes it over as its top rung;
                                   0 = none (descriptor 0 is never one) */
    const char  *preset;        /* x264 preset */
    int          crf;
    int          threads;       /* x264 threads, 0 = automatic */
    int          max_duration;  /* seconds */
    int          deadline;      /* seconds of wall clock for the job */
    uid_t        uid;           /* become this user (when started as root), */
    gid_t        gid;           /* or (uid_t)-1 / (gid_t)-1 to stay */
    int          test_clock;    /* honour the test hooks */
    double       trim_start;    /* the span of the input to keep, seconds; */
    double       trim_end;      /* 0 and 0 keep all of it (tc_options) */
    int          no_network;    /* 1: the child leaves the parent's network (a
                                   worker of an S3 media store keeps one) */
};

/* A running job child, seen from its parent. */
struct jc_child {
    pid_t  pid;                 /* 0 once reaped */
    int    sock;                /* the parent's end of the channel, -1 closed */
    int    status;              /* waitpid() status once reaped */
    double cpu;                 /* CPU seconds it used (user + system), once reaped */
};

/*
 * Start a job child for spec: fork, give the child its limits and the
 * three descriptors (nothing else stays open), and exec `hubcast
 * job-child`. Returns 0 with *c filled, or -errno with nothing started.
 * The caller's descriptors stay open (and its own).
 */
int jc_start(const struct jc_spec *spec, struct jc_child *c);

/*
 * Wait up to timeout_ms for the next message from the child. Returns 1
 * with *m filled, 0 on timeout, -1 once the child has closed its end (it
 * is exiting or dead).
 */
int jc_next(struct jc_child *c, int timeout_ms, struct jc_msg *m);

/* Send one message to the child. Returns 0 or -errno. */
int jc_send(int sock, const struct jc_msg *m);

/*
 * Reap the child, first killing it with SIGKILL when kill_it is set.
 * Returns its waitpid() status (also in c->status; its CPU time in c->cpu)
 * and closes the socket.
 */
int jc_finish(struct jc_child *c, int kill_it);

/* A picture upload converted by a job child of kind avatar (see
 * picture_convert_fn in picture.h, which `hubcast serve` installs it as). */
struct conf;
int jc_run_avatar(const struct conf *conf, int in_fd, int work_fd, char *err, size_t errsz);

/* `hubcast job-child ...`: the child's side (not listed in the help). */
int cmd_job_child(int argc, char **argv);

#endif
