/* shoal's entry point: picks the subcommand and hands it the rest of argv. */
#include "node/commands.h"

#include <stdio.h>
#include <string.h>

struct shoal_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct shoal_command s_commands[] = {
    {"run", shoal_cmd_run, "run a test session, alone or with every runner of the session"},
    {"status", shoal_cmd_status, "show the sessions in progress on this machine"},
    {"cancel", shoal_cmd_cancel, "stop a session on this machine (and where it was shipped)"},
    {"node", shoal_cmd_node, "run a mesh member until SIGINT/SIGTERM"},
    {"members", shoal_cmd_members, "print the member table of a local node"},
    {"stats", shoal_cmd_stats, "print a local node's traffic and drop counters"},
    {"keygen", shoal_cmd_keygen, "print a new cluster key"},
    {"history", shoal_cmd_history, "show or import test history (durations, failures)"},
    {"sim", shoal_cmd_sim, "simulate a session's schedule and report its makespan"},
    {"worker", shoal_cmd_worker, "a session's worker for a framework (started by sessions)"},
    {"zygote-attach", shoal_cmd_zygote_attach,
     "a warm worker's stand-in (started by a serving daemon's sessions)"},
};

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: shoal COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(s_commands) / sizeof(s_commands[0]); i++)
        fprintf(out, "  %-13s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(out, "\n'shoal COMMAND --help' describes each command.\n"
                 "exit status: 0 ok, 1 runtime failure, 2 usage or config error\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        s_usage(stderr);
        return SHOAL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_usage(stdout);
        return SHOAL_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("shoal %s\n", SHOAL_VERSION);
        return SHOAL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(s_commands) / sizeof(s_commands[0]); i++)
        if (strcmp(argv[1], s_commands[i].name) == 0)
            return s_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "shoal: unknown command '%s'\n", argv[1]);
    s_usage(stderr);
    return SHOAL_EXIT_USAGE;
}
