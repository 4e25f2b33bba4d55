/*
 * wake.c - the hook between request handlers and the worker supervisor
 * (see wake.h). Kept apart from worker.c so that the library the server,
 * the tests and the fuzzers share does not depend on the supervisor.
 */
#include <stdatomic.h>
#include <stddef.h>

#include "wake.h"

static _Atomic(void (*)(int)) wake_fn;

void wake_set(void (*fn)(int which))
{
    atomic_store(&wake_fn, fn);
}

void wake_workers(int which)
{
    void (*fn)(int) = atomic_load(&wake_fn);

    if (fn)
        fn(which);
}
