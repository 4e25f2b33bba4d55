/*
 * unit.h - a tiny unit-test harness. Each test prints "ok NAME" or
 * "not ok NAME - reason"; tests/run.sh counts the lines.
 *
 *   UNIT_TEST(parses_weeks) { CHECK_INT(f(1), 2); }
 *   int main(void) { unit_run(parses_weeks, "parses_weeks"); return unit_done(); }
 */
#ifndef HUBCAST_UNIT_H
#define HUBCAST_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_now, unit_passed, unit_failed;
static char unit_reason[512];

#define UNIT_TEST(name) static void name(void)

#define UNIT_FAIL(...) do { if (!unit_failed_now) { \
        int n_ = snprintf(unit_reason, sizeof(unit_reason), "%s:%d: ", __FILE__, __LINE__); \
        if (n_ > 0 && (size_t)n_ < sizeof(unit_reason)) \
            snprintf(unit_reason + n_, sizeof(unit_reason) - (size_t)n_, __VA_ARGS__); } \
        unit_failed_now = 1; } while (0)

#define CHECK(cond) do { if (!(cond)) UNIT_FAIL("%s", #cond); } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ != b_) UNIT_FAIL("%s == %lld, expected %lld", #a, a_, b_); } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
        if (!a_ || !b_ || strcmp(a_, b_)) UNIT_FAIL("%s == \"%s\", expected \"%s\"", #a, \
                                                   a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)

static inline void unit_run(void (*fn)(void), const char *name)
{
    unit_failed_now = 0;
    unit_reason[0] = '\0';
    fn();
    if (unit_failed_now) {
        unit_failed++;
        printf("not ok %s - %s\n", name, unit_reason);
    } else {
        unit_passed++;
        printf("ok %s\n", name);
    }
    fflush(stdout);
}

static inline int unit_done(void)
{
    return unit_failed ? 1 : 0;
}

#endif
