/*
 * sandbox.h - confinement of the process that touches hostile bytes (the
 * job child, see jobchild.h): its resource limits. Not for the worker or
 * the server.
 */
#ifndef HUBCAST_SANDBOX_H
#define HUBCAST_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

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

#endif
