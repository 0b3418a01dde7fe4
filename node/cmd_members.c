/* `shoal members` and `shoal stats`: ask a local node over its control socket. */
#include "node/commands.h"
#include "node/config.h"
#include "node/control.h"

#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Every `shoal run` of this user keeps a control socket run-PID.ctl beside the
 * default one: ask each whose process is still there. */
static int
s_status_all(const char *request)
{
    char control[PATH_MAX + 16];
    shoal_config_default_control(control, sizeof(control));
    char *dir = control + strlen("ipc://");
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    DIR *d = opendir(dir);
    int asked = 0;
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        int pid;
        if (sscanf(e->d_name, "run-%d.ctl", &pid) != 1 || kill(pid, 0) != 0)
            continue;
        char endpoint[PATH_MAX + 300];
        snprintf(endpoint, sizeof(endpoint), "ipc://%s/%s", dir, e->d_name);
        if (shoal_control_ask(endpoint, request) == SHOAL_EXIT_OK)
            asked++;
    }
    if (d)
        closedir(d);
    if (!asked)
        printf(strstr(request, "json") ? "[]\n" : "no session in progress\n");
    return SHOAL_EXIT_OK;
}

static int
s_ask(int argc, char **argv, const char *what, const char *summary)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"control", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    char control[PATH_MAX + 16] = "";
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
            case 'j':
                json = true;
                break;
            case 'c':
                snprintf(control, sizeof(control), "%s", optarg);
                break;
            case 'h':
                printf("usage: shoal %s [--json] [--control ENDPOINT]\n\n%s\n\n"
                       "  --json              one JSON document instead of a table\n"
                       "  --control ENDPOINT  the node's control socket (default "
                       "ipc://$XDG_RUNTIME_DIR/shoal/control)\n",
                       what, summary);
                return SHOAL_EXIT_OK;
            default:
                fprintf(stderr, "usage: shoal %s [--json] [--control ENDPOINT]\n", what);
                return SHOAL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shoal %s: unexpected argument '%s'\n", what, argv[optind]);
        return SHOAL_EXIT_USAGE;
    }
    char request[64];
    snprintf(request, sizeof(request), "%s %s", what, json ? "json" : "table");
    if (!control[0] && strcmp(what, "status") == 0)
        return s_status_all(request);
    if (!control[0])
        shoal_config_default_control(control, sizeof(control));
    return shoal_control_ask(control, request);
}

int
shoal_cmd_members(int argc, char **argv)
{
    return s_ask(argc, argv, "members",
                 "Prints the member table of a local node: name, address, state "
                 "(alive/suspect/dead/left),\nincarnation, slots, tags, last heard.");
}

int
shoal_cmd_stats(int argc, char **argv)
{
    return s_ask(argc, argv, "stats",
                 "Prints a local node's traffic counters and every dropped frame by reason.");
}

int
shoal_cmd_status(int argc, char **argv)
{
    return s_ask(argc, argv, "status",
                 "Shows the sessions in progress on this machine (or on the node at --control):\n"
                 "counts, leader and term, and each member's finished tests.");
}
