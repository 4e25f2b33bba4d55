/*
 * main.c - the hubcast binary: one program, several roles, chosen by the
 * first argument (like git or tmux).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "commands.h"

char hc_self_path[PATH_MAX];

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    { "serve",     cmd_serve,     "run the web server, the scheduler and the transcode workers" },
    { "worker",    cmd_worker,    "claim transcode jobs from the catalog and run them" },
    { "first-lane", cmd_first_lane, "run first-playable passes only, several at once (worker --lane first)" },
    { "transcode", cmd_transcode, "transcode one file into an HLS folder (no catalog)" },
    { "migrate",   cmd_migrate,   "apply pending catalog migrations" },
    { "user",      cmd_user,      "add people, list them, make API tokens" },
    { "purpose",   cmd_purpose,   "show or set the company's purpose" },
    { "remind",    cmd_remind,    "show who would be reminded to post, and when (--dry-run)" },
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: hubcast COMMAND [OPTIONS]\n\n"
               "Hubcast: one place where everyone shares a short video update each week.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nRun `hubcast COMMAND --help` for the options of a command.\n"
               "Every option can also be set as HUBCAST_NAME in the environment or as\n"
               "`name = value` in the config file (DATA/hubcast.conf or --config FILE).\n");
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", hc_self_path, sizeof(hc_self_path) - 1);

    if (n > 0)
        hc_self_path[n] = '\0';
    else
        snprintf(hc_self_path, sizeof(hc_self_path), "%s", argv[0]);
    if (sodium_init() < 0) {
        fputs("hubcast: libsodium failed to initialise\n", stderr);
        return 1;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("hubcast %s\n", PACKAGE_VERSION);
        return 0;
    }
    /* Started by a worker for each job; not listed in the help. */
    if (!strcmp(argv[1], "job-child"))
        return cmd_job_child(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "hubcast: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    return 2;
}
