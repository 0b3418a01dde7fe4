/* `shoal members`, `shoal stats`, `shoal status` and `shoal cancel`: ask a
 * local node (and the machine's own runs) over their control sockets. */
#include "node/commands.h"
#include "node/config.h"
#include "node/control.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Adds one answer to `status json` or `status table`: JSON arrays become
 * one array's elements. */
static void
s_status_add(FILE *out, const char *answer, bool json, size_t *elements)
{
    if (!json) {
        fputs(answer, out);
        return;
    }
    const char *open = strchr(answer, '['), *close = strrchr(answer, ']');
    if (!open || !close || close <= open + 1)
        return; /* an empty array */
    fprintf(out, "%s%.*s", (*elements)++ ? "," : "", (int)(close - open - 1), open + 1);
}

/* Calls fn with the endpoint and pid of every `shoal run` of this user's
 * own (run-PID.ctl beside the default control socket control, its process
 * still there), forgetting the sockets of runs that are gone. */
static void
s_each_run(char *control, void (*fn)(void *arg, const char *endpoint, int pid), void *arg)
{
    char *dir = control + strlen("ipc://");
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    DIR *d = opendir(dir);
    for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
        int pid;
        if (sscanf(e->d_name, "run-%d.ctl", &pid) != 1)
            continue;
        char endpoint[PATH_MAX + 300];
        snprintf(endpoint, sizeof(endpoint), "ipc://%s/%s", dir, e->d_name);
        if (kill(pid, 0) != 0) {
            if (errno == ESRCH) /* a run killed before it could remove its socket */
                unlink(endpoint + strlen("ipc://"));
            continue;
        }
        fn(arg, endpoint, pid);
    }
    if (d)
        closedir(d);
    *slash = '/';
}

typedef struct {
    FILE *out;
    const char *request;
    bool json;
    size_t elements;
} s_status_t;

static void
s_status_run(void *arg, const char *endpoint, int pid)
{
    s_status_t *st = arg;
    (void)pid;
    char *answer = shoal_control_request(endpoint, st->request);
    if (answer)
        s_status_add(st->out, answer, st->json, &st->elements);
    free(answer);
}

/* This user's `shoal node` (the default control socket) and every `shoal
 * run` of its own (run-PID.ctl beside it, its process still there): all
 * the sessions on this machine, in one answer. */
static int
s_status_all(const char *request)
{
    bool json = strstr(request, "json") != NULL;
    char control[PATH_MAX + 16];
    shoal_config_default_control(control, sizeof(control));
    char *out_text = NULL;
    size_t out_size = 0;
    FILE *out = open_memstream(&out_text, &out_size);
    if (!out) {
        fprintf(stderr, "shoal status: out of memory\n");
        return SHOAL_EXIT_FAILURE;
    }
    s_status_t all = {.out = out, .request = request, .json = json};
    struct stat st;
    const char *path = control + strlen("ipc://");
    if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        char *answer = shoal_control_request(control, request);
        if (answer && (json || !strstr(answer, "no session in progress")))
            s_status_add(out, answer, json, &all.elements);
        free(answer);
    }
    s_each_run(control, s_status_run, &all);
    fclose(out);
    if (json)
        printf("[%s]\n", out_text ? out_text : "");
    else if (out_size)
        fputs(out_text, stdout);
    else
        printf("no session in progress\n");
    free(out_text);
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
    if (control[0] && strncmp(control, "ipc://", 6) != 0 && strncmp(control, "tcp://", 6) != 0) {
        fprintf(stderr,
                "shoal %s: --control: '%s' is not an endpoint (ipc://PATH or tcp://IP:PORT)\n",
                what, control);
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

typedef struct {
    const char *session;
    char needle[128];
    int stopped;
} s_cancel_t;

/* A run taking part in the session is stopped as Ctrl-C would: it cancels
 * the session on its node or on the daemons it shipped it to. */
static void
s_cancel_run(void *arg, const char *endpoint, int pid)
{
    s_cancel_t *c = arg;
    char *answer = shoal_control_request(endpoint, "status json");
    if (answer && strstr(answer, c->needle) && kill(pid, SIGINT) == 0) {
        printf("asked run %d to stop session %s\n", pid, c->session);
        c->stopped++;
    }
    free(answer);
}

int
shoal_cmd_cancel(int argc, char **argv)
{
    static const struct option options[] = {
        {"control", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char control[PATH_MAX + 16] = "";
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'c') {
            snprintf(control, sizeof(control), "%s", optarg);
        } else if (opt == 'h') {
            printf("usage: shoal cancel SESSION [--control ENDPOINT]\n\n"
                   "Stops a session on this machine: the `shoal run`s taking part in it stop as\n"
                   "on Ctrl-C (a shipped session is cancelled on every daemon), and the node at\n"
                   "--control (default: this machine's) abandons it, its tests killed.\n"
                   "Exit status 0 when something was stopped, 1 when nothing here runs it.\n");
            return SHOAL_EXIT_OK;
        } else {
            fprintf(stderr, "usage: shoal cancel SESSION [--control ENDPOINT]\n");
            return SHOAL_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: shoal cancel SESSION [--control ENDPOINT]\n");
        return SHOAL_EXIT_USAGE;
    }
    s_cancel_t c = {.session = argv[optind]};
    snprintf(c.needle, sizeof(c.needle), "\"session\":\"%.100s\"", c.session);
    char request[160];
    snprintf(request, sizeof(request), "abandon %.140s", c.session);
    bool given = control[0] != '\0';
    if (!given)
        shoal_config_default_control(control, sizeof(control));
    struct stat st;
    bool node = given || (stat(control + strlen("ipc://"), &st) == 0 && S_ISSOCK(st.st_mode));
    char *answer = node ? shoal_control_request(control, request) : NULL;
    if (answer && strncmp(answer, "cancelled", 9) == 0) {
        printf("the node at %s abandoned session %s\n", control, c.session);
        c.stopped++;
    }
    free(answer);
    if (!given && strncmp(control, "ipc://", 6) == 0)
        s_each_run(control, s_cancel_run, &c);
    if (!c.stopped) {
        fprintf(stderr, "shoal cancel: no session %s runs here\n", c.session);
        return SHOAL_EXIT_FAILURE;
    }
    return SHOAL_EXIT_OK;
}
