/*
 * sandbox.c - the confinement of a job child; see sandbox.h.
 */
#include "config.h"

#include "sandbox.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

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
