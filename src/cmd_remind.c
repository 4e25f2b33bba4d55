/*
 * cmd_remind.c - `hubcast remind --dry-run [--at INSTANT]`: who would be
 * reminded, and when. First form: not built yet.
 */
#include "config.h"

#include <stdio.h>

#include "commands.h"

int cmd_remind(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("hubcast: remind is not available yet\n", stderr);
    return 1;
}
